"""Numerical gradient checks for the feed-forward layers, in float64."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.errors import RnnlabError
from rnnlab.scratch.gradcheck import check, check_layer, numerical_gradient
from rnnlab.scratch.layers import Affine, Dropout, Embedding, SoftmaxWithLoss, sigmoid

TOLERANCE = 1e-7


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_sigmoid_matches_the_definition_and_never_overflows():
    x = np.linspace(-30, 30, 61)
    assert np.allclose(sigmoid(x), 1 / (1 + np.exp(-x)), atol=1e-15)
    with np.errstate(over="raise"):
        assert sigmoid(np.array([-1e4, 1e4], np.float32)).tolist() == [0.0, 1.0]


def test_affine_gradients(rng):
    layer = Affine(5, 3, rng, np.float64)
    errors = check_layer(layer, rng.standard_normal((4, 2, 5)), rng)
    assert set(errors) == {"W", "b", "x"}
    assert max(errors.values()) < TOLERANCE


def test_affine_without_bias(rng):
    layer = Affine(4, 6, rng, np.float64, bias=False)
    errors = check_layer(layer, rng.standard_normal((3, 4)), rng)
    assert set(errors) == {"W", "x"} and max(errors.values()) < TOLERANCE


def test_embedding_gradients_sum_repeated_ids(rng):
    layer = Embedding(7, 3, rng, np.float64)
    ids = np.array([[1, 2, 1], [6, 1, 0]])              # id 1 three times
    errors = check_layer(layer, ids, rng)
    assert set(errors) == {"W"} and errors["W"] < TOLERANCE


def test_softmax_with_loss_gradient_and_value(rng):
    scores = rng.standard_normal((6, 5))
    targets = rng.integers(0, 5, 6)
    layer = SoftmaxWithLoss()
    expected = -np.log(np.exp(scores) / np.exp(scores).sum(1, keepdims=True))[np.arange(6), targets].sum()
    assert layer.forward(scores.copy(), targets) == pytest.approx(expected, rel=1e-12)
    analytic = layer.backward(0.5)                         # d(0.5 * loss)
    errors = check(lambda: 0.5 * layer.forward(scores.copy(), targets, keep=False), {"scores": analytic},
                   {"scores": scores})
    assert errors["scores"] < TOLERANCE


def test_softmax_with_loss_is_stable_for_huge_scores():
    layer = SoftmaxWithLoss()
    loss = layer.forward(np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([0, 1]))
    assert loss == pytest.approx(1000.0)


def test_affine_names_the_shapes_on_mismatch(rng):
    with pytest.raises(RnnlabError, match=r"Affine: input \(2, 4\) does not fit weight \(5, 3\)"):
        Affine(5, 3, rng).forward(np.zeros((2, 4), np.float32))


def test_embedding_rejects_ids_out_of_range(rng):
    with pytest.raises(RnnlabError, match=r"Embedding: ids must lie in \[0, 7\)"):
        Embedding(7, 3, rng).forward(np.array([0, 7]))


@pytest.mark.parametrize("variational", [False, True])
def test_dropout_gradient_and_mask(rng, variational):
    layer = Dropout(0.4, np.random.default_rng(5), variational)
    x = rng.standard_normal((6, 3, 4))                    # (time, batch, features)

    def same_mask():
        layer.rng = np.random.default_rng(5)

    errors = check_layer(layer, x, rng, before=same_mask)
    assert errors["x"] < TOLERANCE
    same_mask()
    out = layer.forward(x)
    dropped = out == 0
    if variational:                                        # one mask for every time step
        assert (dropped == dropped[:1]).all()
    else:
        assert not (dropped == dropped[:1]).all()
    kept = ~dropped
    assert np.allclose(out[kept], x[kept] / 0.6)
    assert layer.forward(x, training=False) is x


def test_numerical_gradient_restores_the_array(rng):
    x = rng.standard_normal(4)
    before = x.copy()
    grad = numerical_gradient(lambda: float((x ** 3).sum()), x)
    assert np.array_equal(x, before)
    assert np.allclose(grad, 3 * x ** 2, rtol=1e-8)

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


@pytest.mark.parametrize("huge", [False, True])
def test_affine_softmax_with_loss_equals_the_pair_and_its_gradients_check(rng, huge):
    from rnnlab.scratch.layers import AffineSoftmaxWithLoss

    fused = AffineSoftmaxWithLoss(4, 9, rng, np.float64)
    if huge:                                            # row maxima beyond 60: the shifted path
        fused.params["b"][...] = 100.0 * np.arange(9)
    affine = Affine(4, 9, rng, np.float64)
    affine.params["W"][...], affine.params["b"][...] = fused.params["W"], fused.params["b"]
    pair = SoftmaxWithLoss()
    x, targets = rng.standard_normal((6, 4)), np.array([0, 3, 3, 8, 1, 3])   # a repeated target
    loss = fused.forward(x, targets)
    assert loss == pytest.approx(pair.forward(affine.forward(x), targets), rel=1e-12)
    dx = fused.backward(0.25)
    assert np.allclose(dx, affine.backward(pair.backward(0.25)), atol=1e-12)
    for name in ("W", "b"):
        assert np.allclose(fused.grads[name], affine.grads[name], atol=1e-12)
    analytic = {"x": dx, **{k: g.copy() for k, g in fused.grads.items()}}
    errors = check(lambda: 0.25 * fused.forward(x, targets, keep=False), analytic, {"x": x, **fused.params}, eps=1e-4)
    assert max(errors.values()) < TOLERANCE


def test_tied_affine_softmax_with_loss_takes_the_unfolded_path(rng):
    from rnnlab.scratch.layers import AffineSoftmaxWithLoss

    folded = AffineSoftmaxWithLoss(4, 9, rng, np.float64)
    shared = np.ascontiguousarray(folded.params["W"].T)          # (out, in), as an embedding is
    tied = AffineSoftmaxWithLoss(4, 9, rng, np.float64)
    tied.tie(shared.T)
    tied.params["b"][...] = folded.params["b"]
    x, targets = rng.standard_normal((5, 4)), np.array([1, 2, 2, 0, 8])
    assert tied.forward(x, targets) == pytest.approx(folded.forward(x, targets), rel=1e-12)
    assert np.allclose(tied.backward(0.5), folded.backward(0.5))
    assert np.allclose(tied.grads["W"], folded.grads["W"]) and np.allclose(tied.grads["b"], folded.grads["b"])

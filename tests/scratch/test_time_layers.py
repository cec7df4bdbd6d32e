"""Gradient checks for every cell unrolled over time, including the carried state."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.errors import RnnlabError
from rnnlab.scratch.cells import make_cell
from rnnlab.scratch.gradcheck import check, check_layer
from rnnlab.scratch.time_layers import TimeRecurrent

TOLERANCE = 1e-6
VARIANTS = [("rnn", False), ("rnn-relu", False), ("lstm", False), ("lstm", True), ("gru", False)]


@pytest.mark.parametrize("kind,peepholes", VARIANTS)
def test_time_recurrent_gradients_from_a_carried_state(kind, peepholes):
    rng = np.random.default_rng(1)
    cell = make_cell(kind, 3, 4, rng, np.float64, peepholes=peepholes)
    layer = TimeRecurrent(cell, stateful=True)
    start = tuple(rng.standard_normal((2, 4)) * 0.5 for _ in range(cell.state_size))

    def carried():
        layer.state = start

    errors = check_layer(layer, rng.standard_normal((5, 2, 3)), rng, before=carried)
    expected = {"Wx", "Wh", "b", "x"} | ({"P"} if peepholes else set()) | ({"bh"} if kind == "gru" else set())
    assert set(errors) == expected
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradient_on_the_first_state(kind):
    """dstate after backward is d loss / d (state the window started from): what TBPTT cuts."""
    rng = np.random.default_rng(2)
    cell = make_cell(kind, 3, 4, rng, np.float64)
    layer = TimeRecurrent(cell)
    xs = rng.standard_normal((4, 2, 3))
    start = [rng.standard_normal((2, 4)) for _ in range(cell.state_size)]
    probe = rng.standard_normal((4, 2, 4))

    def loss():
        layer.state = tuple(start)
        return float((layer.forward(xs) * probe).sum())

    loss()
    layer.backward(probe)
    analytic = {f"state{k}": d for k, d in enumerate(layer.dstate)}
    errors = check(loss, analytic, {f"state{k}": s for k, s in enumerate(start)})
    assert max(errors.values()) < TOLERANCE


def test_stateful_layer_carries_state_and_stateless_does_not():
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((6, 2, 3)).astype(np.float32)
    whole = TimeRecurrent(make_cell("lstm", 3, 4, np.random.default_rng(0)))
    halves = TimeRecurrent(make_cell("lstm", 3, 4, np.random.default_rng(0)))
    full = whole.forward(xs)
    joined = np.concatenate([halves.forward(xs[:3]), halves.forward(xs[3:])])
    assert np.allclose(full, joined, atol=1e-6)
    fresh = TimeRecurrent(make_cell("lstm", 3, 4, np.random.default_rng(0)), stateful=False)
    fresh.forward(xs[:3])
    assert not np.allclose(fresh.forward(xs[3:]), full[3:], atol=1e-3)


def test_input_size_mismatch_names_layer_and_shapes():
    layer = TimeRecurrent(make_cell("gru", 3, 4, np.random.default_rng(0)))
    with pytest.raises(RnnlabError, match=r"TimeRecurrent\(GRUCell\): input \(5, 2, 7\) must be \(time, batch, 3\)"):
        layer.forward(np.zeros((5, 2, 7), np.float32))


def test_unknown_cell_and_misplaced_peepholes_are_refused():
    with pytest.raises(RnnlabError, match="unknown cell type 'elman'"):
        make_cell("elman", 3, 4, np.random.default_rng(0))
    with pytest.raises(RnnlabError, match="peepholes exist for the lstm cell only"):
        make_cell("gru", 3, 4, np.random.default_rng(0), peepholes=True)


def test_float32_by_default():
    layer = TimeRecurrent(make_cell("lstm", 3, 4, np.random.default_rng(0)))
    out = layer.forward(np.zeros((2, 1, 3), np.float32))
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32

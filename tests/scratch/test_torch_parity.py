"""NumPy cells against nn.RNN / nn.LSTM / nn.GRU: same weights -> same outputs and gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.errors import RnnlabError
from rnnlab.scratch.cells import make_cell
from rnnlab.scratch.time_layers import TimeRecurrent
from rnnlab.scratch.torch_layout import map_weights

TOLERANCE = 1e-6


def torch_layer(kind: str, input_size: int, hidden: int) -> nn.Module:
    torch.manual_seed(0)
    if kind == "lstm":
        layer = nn.LSTM(input_size, hidden)
    elif kind == "gru":
        layer = nn.GRU(input_size, hidden)
    else:
        layer = nn.RNN(input_size, hidden, nonlinearity="relu" if kind == "rnn-relu" else "tanh")
    return layer.double()


def numpy_layer(kind: str, reference: nn.Module) -> TimeRecurrent:
    cell = make_cell(kind, reference.input_size, reference.hidden_size, np.random.default_rng(0), np.float64)
    weights = {name: p.detach().numpy() for name, p in reference.named_parameters()}
    for name, value in map_weights(kind, weights, to="numpy").items():
        cell.params[name][...] = value
    return TimeRecurrent(cell)


def torch_grads_in_our_layout(kind: str, reference: nn.Module) -> dict[str, np.ndarray]:
    grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    if kind != "gru":           # our single b stands for both biases: its gradient is each one's
        assert np.allclose(grads["bias_ih_l0"], grads["bias_hh_l0"])
        grads["bias_hh_l0"] = np.zeros_like(grads["bias_hh_l0"])
    return map_weights(kind, grads, to="numpy")


@pytest.mark.parametrize("kind", ["rnn", "rnn-relu", "lstm", "gru"])
def test_same_weights_same_outputs_states_and_gradients(kind):
    T, N, D, H = 7, 3, 4, 5
    reference = torch_layer(kind, D, H)
    ours = numpy_layer(kind, reference)
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((T, N, D))
    start = [rng.standard_normal((N, H)) * 0.5 for _ in range(2 if kind == "lstm" else 1)]
    probe_out, probe_h = rng.standard_normal((T, N, H)), rng.standard_normal((N, H))

    x_t = torch.tensor(xs, requires_grad=True)
    state_t = [torch.tensor(s[None], requires_grad=True) for s in start]
    out_t, final_t = reference(x_t, tuple(state_t) if kind == "lstm" else state_t[0])
    h_t = final_t[0] if kind == "lstm" else final_t
    ((out_t * torch.tensor(probe_out)).sum() + (h_t[0] * torch.tensor(probe_h)).sum()).backward()

    ours.state = tuple(start)
    out = ours.forward(xs)
    assert np.abs(out - out_t.detach().numpy()).max() < TOLERANCE
    if kind == "lstm":
        assert np.abs(ours.state[1] - final_t[1][0].detach().numpy()).max() < TOLERANCE
    dxs = ours.backward(probe_out, dstate=(probe_h,) + tuple(np.zeros((N, H)) for _ in start[1:]))
    assert np.abs(dxs - x_t.grad.numpy()).max() < TOLERANCE
    for k, s in enumerate(state_t):
        assert np.abs(ours.dstate[k] - s.grad[0].numpy()).max() < TOLERANCE
    expected = torch_grads_in_our_layout(kind, reference)
    for name, grad in expected.items():
        assert np.abs(ours.grads[name] - grad).max() < TOLERANCE, name


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_mapping_round_trip(kind):
    reference = torch_layer(kind, 3, 4)
    weights = {name: p.detach().numpy() for name, p in reference.named_parameters()}
    ours = map_weights(kind, weights, to="numpy")
    back = map_weights(kind, ours, to="torch")
    assert np.allclose(back["weight_ih_l0"], weights["weight_ih_l0"])
    assert np.allclose(back["weight_hh_l0"], weights["weight_hh_l0"])
    assert np.allclose(back["bias_ih_l0"] + back["bias_hh_l0"], weights["bias_ih_l0"] + weights["bias_hh_l0"])
    assert np.allclose(map_weights(kind, back, to="numpy")["Wx"], ours["Wx"])


def test_lstm_gate_order_is_stated_by_the_mapping():
    """Our f block becomes torch's second block (i, f, g, o)."""
    H = 2
    ours = {"Wx": np.zeros((1, 4 * H)), "Wh": np.zeros((H, 4 * H)), "b": np.repeat([10.0, 20.0, 30.0, 40.0], H)}
    torch_side = map_weights("lstm", ours, to="torch")
    assert torch_side["bias_ih_l0"].tolist() == [30.0] * H + [10.0] * H + [20.0] * H + [40.0] * H


def test_peephole_lstm_has_no_torch_layout():
    cell = make_cell("lstm", 3, 4, np.random.default_rng(0), peepholes=True)
    with pytest.raises(RnnlabError, match="peephole"):
        map_weights("lstm", cell.params, to="torch")

"""NumPy cells against nn.RNN / nn.LSTM / nn.GRU and the peephole LSTM: same weights -> same outputs and
gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.errors import RnnlabError
from rnnlab.models.cells import PeepholeLSTM
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


def test_peephole_lstm_has_no_nn_lstm_layout():
    cell = make_cell("lstm", 3, 4, np.random.default_rng(0), peepholes=True)
    with pytest.raises(RnnlabError, match="peephole"):
        map_weights("lstm", cell.params, to="torch")
    assert set(map_weights("lstm-peephole", cell.params, to="torch")) == {
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "peephole_l0"}


# ---- the peephole LSTM: rnnlab.models.cells.PeepholeLSTM against the NumPy LSTM with peepholes ----------

def peephole_pair(input_size: int, hidden: int, dtype=torch.float64):
    torch.manual_seed(0)
    reference = PeepholeLSTM(input_size, hidden).to(dtype)
    cell = make_cell("lstm", input_size, hidden, np.random.default_rng(0), np.dtype(str(dtype).split(".")[1]),
                     peepholes=True)
    weights = {name: p.detach().numpy() for name, p in reference.named_parameters()}
    for name, value in map_weights("lstm-peephole", weights, to="numpy").items():
        cell.params[name][...] = value
    return reference, TimeRecurrent(cell)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, TOLERANCE), (torch.float32, 1e-5)])
def test_peephole_lstm_same_outputs_states_and_gradients_as_the_numpy_one(dtype, tolerance):
    T, N, D, H = 7, 3, 4, 5
    reference, ours = peephole_pair(D, H, dtype)
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((T, N, D)).astype(np_dtype)
    start = [(rng.standard_normal((N, H)) * 0.5).astype(np_dtype) for _ in range(2)]
    probe_out, probe_h, probe_c = (rng.standard_normal(shape).astype(np_dtype) for shape in ((T, N, H), (N, H), (N, H)))

    x_t = torch.tensor(xs, requires_grad=True)
    state_t = [torch.tensor(s[None], requires_grad=True) for s in start]
    out_t, (h_t, c_t) = reference(x_t, tuple(state_t))
    ((out_t * torch.tensor(probe_out)).sum() + (h_t[0] * torch.tensor(probe_h)).sum()
     + (c_t[0] * torch.tensor(probe_c)).sum()).backward()

    ours.state = tuple(start)
    out = ours.forward(xs)
    assert np.abs(out - out_t.detach().numpy()).max() < tolerance
    assert np.abs(ours.state[0] - h_t[0].detach().numpy()).max() < tolerance
    assert np.abs(ours.state[1] - c_t[0].detach().numpy()).max() < tolerance
    dxs = ours.backward(probe_out, dstate=(probe_h, probe_c))
    assert np.abs(dxs - x_t.grad.numpy()).max() < tolerance
    for k, s in enumerate(state_t):
        assert np.abs(ours.dstate[k] - s.grad[0].numpy()).max() < tolerance
    grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    assert np.allclose(grads["bias_ih_l0"], grads["bias_hh_l0"])
    grads["bias_hh_l0"] = np.zeros_like(grads["bias_hh_l0"])      # our one b: either bias's gradient
    expected = map_weights("lstm-peephole", grads, to="numpy")
    assert set(expected) == set(ours.grads) == {"Wx", "Wh", "b", "P"}
    assert np.abs(expected["P"]).max() > 1e-3                      # the peepholes are on the path
    for name, grad in expected.items():
        assert np.abs(ours.grads[name] - grad).max() < tolerance, name


def test_peephole_lstm_without_peepholes_is_nn_lstm():
    """Zero peepholes leave the LSTM: the same outputs as nn.LSTM with the same weights."""
    reference, _ = peephole_pair(3, 4)
    with torch.no_grad():
        reference.peephole_l0.zero_()
    plain = torch_layer("lstm", 3, 4)
    plain.load_state_dict({k: v for k, v in reference.state_dict().items() if k != "peephole_l0"})
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    state = (torch.randn(1, 2, 4, dtype=torch.float64), torch.randn(1, 2, 4, dtype=torch.float64))
    out, (h, c) = reference(x, state)
    want, (want_h, want_c) = plain(x, state)
    assert torch.allclose(out, want, atol=1e-12) and torch.allclose(c, want_c, atol=1e-12)
    assert torch.allclose(h, want_h, atol=1e-12)
    assert torch.equal(reference(x)[0], reference(x, tuple(torch.zeros_like(s) for s in state))[0])


def test_peephole_mapping_round_trip_and_order():
    """Our P rows f, i, o become torch's blocks i, f, o; and back."""
    H = 2
    ours = {"Wx": np.zeros((1, 4 * H)), "Wh": np.zeros((H, 4 * H)), "b": np.zeros(4 * H),
            "P": np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])}
    torch_side = map_weights("lstm-peephole", ours, to="torch")
    assert torch_side["peephole_l0"].tolist() == [2.0, 2.0, 1.0, 1.0, 3.0, 3.0]
    assert np.array_equal(map_weights("lstm-peephole", torch_side, to="numpy")["P"], ours["P"])
    with pytest.raises(RnnlabError, match="peephole"):
        map_weights("lstm-peephole", {k: v for k, v in ours.items() if k != "P"}, to="torch")


def test_a_torch_peephole_language_model_loads_into_the_numpy_engine():
    """The same weights give the same loss in both engines (the state dict speaks one layout)."""
    from rnnlab.config import ModelConfig
    from rnnlab.scratch.model import LanguageModel
    from rnnlab.tasks.language_model.model import LanguageModel as TorchLanguageModel

    config = ModelConfig(cell="lstm-peephole", layers=2, hidden=6, embed=5)
    torch.manual_seed(0)
    reference = TorchLanguageModel(config, 11, fused_loss=False).double().eval()
    ours = LanguageModel(config, 11, np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    assert set(ours.state_dict()) == set(reference.state_dict())
    ids = np.random.default_rng(0).integers(0, 11, (9, 2))
    start = [tuple(t.double() for t in layer) for layer in reference.initial_state(2)]     # (h, c) per layer
    out = reference(torch.tensor(ids[:-1]), start, torch.tensor(ids[1:]))
    assert abs(ours.forward(ids[:-1], ids[1:]) - out.nll_sum.item()) < TOLERANCE

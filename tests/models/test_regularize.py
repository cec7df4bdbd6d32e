"""Weight drop through functional_call keeps nn.LSTM's fused kernel (cuDNN's on a GPU), leaves the
module's own weights alone, and computes the LSTM of the dropped weights."""

from __future__ import annotations

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from rnnlab.models.regularize import call_with_weight_drop


def test_weight_drop_runs_the_fused_lstm_on_the_dropped_weights(device):
    torch.manual_seed(0)
    layer = nn.LSTM(6, 8).to(device)
    before = {name: w.detach().clone() for name, w in layer.named_parameters()}
    x = torch.randn(5, 3, 6, device=device)
    state = (torch.zeros(1, 3, 8, device=device), torch.zeros(1, 3, 8, device=device))
    torch.manual_seed(1)
    with profile(activities=[ProfilerActivity.CPU]) as traced:
        out, _ = call_with_weight_drop(layer, 0.5, True, x, state)
    names = {event.key for event in traced.key_averages()}
    assert "aten::lstm" in names                                       # one fused call, not a loop of cells
    if device == "cuda":
        assert "aten::_cudnn_rnn" in names
    torch.manual_seed(1)
    dropped = torch.nn.functional.dropout(layer.weight_hh_l0, 0.5, True)
    reference = nn.LSTM(6, 8).to(device)
    with torch.no_grad():
        for name, w in layer.named_parameters():
            getattr(reference, name).copy_(dropped if name == "weight_hh_l0" else w)
    assert torch.allclose(out, reference(x, state)[0], atol=1e-5)
    assert all(torch.equal(w, before[name]) for name, w in layer.named_parameters())
    out.sum().backward()
    assert layer.weight_hh_l0.grad is not None and layer.weight_hh_l0.grad.abs().sum() > 0

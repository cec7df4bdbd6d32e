"""Recurrent layers PyTorch lacks, written as a cell plus a loop over time.

`ProjectedDropoutLSTM` is the seed's Chainer layer: dropout acts on the input projection
W_x x (all four gates' share of it), then h W_h is added. `PeepholeLSTM` is the LSTM with
peephole connections from the cell state to its gates. Gate order i, f, g, o as PyTorch's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def lstm_gates(gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM update from pre-activations (batch, 4*hidden) in i, f, g, o order."""
    i, f, g, o = gates.chunk(4, dim=1)
    cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(cell), cell


class ProjectedDropoutLSTM(nn.Module):
    """One LSTM layer as Chainer's seed net wrote it: c, h = lstm(c, dropout(W_x x) + W_h h)."""

    def __init__(self, input_size: int, hidden_size: int, dropout: float):
        super().__init__()
        self.hidden_size, self.dropout = hidden_size, dropout
        self.input_proj = nn.Linear(input_size, 4 * hidden_size)
        self.hidden_proj = nn.Linear(hidden_size, 4 * hidden_size)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        """x (time, batch, input); state (h, c), each (1, batch, hidden), as nn.LSTM takes it."""
        projected = F.dropout(self.input_proj(x), self.dropout, self.training)  # (time, batch, 4H)
        h, c = state[0][0], state[1][0]
        outputs = []
        for step in projected:
            h, c = lstm_gates(step + self.hidden_proj(h), c)
            outputs.append(h)
        return torch.stack(outputs), (h.unsqueeze(0), c.unsqueeze(0))


class PeepholeLSTM(nn.Module):
    """One LSTM layer with peepholes (Gers & Schmidhuber 2000): the input and forget gates also see
    the previous cell state, the output gate the new one, each through a diagonal weight:

        i = sigmoid(W_ii x + W_hi h + b_i + p_i * c_prev)
        f = sigmoid(W_if x + W_hf h + b_f + p_f * c_prev)
        g = tanh(W_ig x + W_hg h + b_g)
        c = f * c_prev + i * g
        o = sigmoid(W_io x + W_ho h + b_o + p_o * c)
        h = o * tanh(c)

    A drop-in for a one-layer nn.LSTM: time-major x (time, batch, input), state (h, c) each
    (1, batch, hidden) or None, the same parameter names and layout (weight_ih_l0 (4H, input),
    weight_hh_l0 (4H, H), bias_ih_l0, bias_hh_l0 in i, f, g, o blocks), so weight drop and the
    init schemes act on it as on nn.LSTM; the peepholes are peephole_l0 (3H): p_i, p_f, p_o.
    Initialised as nn.LSTM is, every parameter uniform in +-1/sqrt(hidden).
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh_l0 = nn.Parameter(torch.empty(4 * hidden_size))
        self.peephole_l0 = nn.Parameter(torch.empty(3 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """x (time, batch, input) -> outputs (time, batch, hidden), (h, c) each (1, batch, hidden)."""
        if state is None:
            zeros = x.new_zeros(x.size(1), self.hidden_size)
            h, c = zeros, zeros
        else:
            h, c = state[0][0], state[1][0]
        # the input's share of every step in one product; each step adds h W_hh, which waits for the step before
        projected = F.linear(x, self.weight_ih_l0, self.bias_ih_l0 + self.bias_hh_l0)   # (time, batch, 4H)
        w_hh = self.weight_hh_l0.t()
        p_i, p_f, p_o = self.peephole_l0.chunk(3)
        outputs = []
        for step in projected:
            i, f, g, o = torch.addmm(step, h, w_hh).chunk(4, dim=1)
            c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
            h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs), (h.unsqueeze(0), c.unsqueeze(0))

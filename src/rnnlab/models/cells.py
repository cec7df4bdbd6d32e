"""Recurrent layers PyTorch lacks, written as a cell plus a loop over time.

`ProjectedDropoutLSTM` is the seed's Chainer layer: dropout acts on the input projection
W_x x (all four gates' share of it), then h W_h is added. Gate order i, f, g, o as PyTorch's.
"""

from __future__ import annotations

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

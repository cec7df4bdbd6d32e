"""Attention over an encoder's outputs: Luong's dot and general scores, Bahdanau's additive score.

Scores are masked so that padding gets no weight; the weights over the real source tokens sum
to 1. Keys are computed once per source (`keys`) and reused at every decoder step.
"""

from __future__ import annotations

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, kind: str, size: int):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.weight = nn.Linear(size, size, bias=False)              # score = q . (W m)
        elif kind == "additive":
            self.query_proj = nn.Linear(size, size, bias=False)          # score = v . tanh(W q + U m)
            self.memory_proj = nn.Linear(size, size)
            self.v = nn.Linear(size, 1, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """What queries are scored against: memory (source, batch, size) -> same shape."""
        if self.kind == "general":
            return self.weight(memory)
        if self.kind == "additive":
            return self.memory_proj(memory)
        return memory

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """query (steps, batch, size), keys/memory (source, batch, size), mask (source, batch) True on
        real tokens -> context (steps, batch, size), weights (steps, batch, source)."""
        if self.kind == "additive":
            summed = self.query_proj(query).unsqueeze(2) + keys.transpose(0, 1).unsqueeze(0)  # (steps, batch, source, size)
            scores = self.v(torch.tanh(summed)).squeeze(3)                                    # (steps, batch, source)
        else:
            scores = torch.einsum("tbh,sbh->tbs", query, keys)
        scores = scores.masked_fill(~mask.t().unsqueeze(0), float("-inf"))
        weights = torch.softmax(scores, dim=2)
        context = torch.einsum("tbs,sbh->tbh", weights, memory)
        return context, weights

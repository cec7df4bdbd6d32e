"""The AWD-LSTM family of regularisers, each small and testable alone.

LockedDropout keeps one mask per sequence (variational dropout); embedding dropout removes
whole word types; weight drop applies DropConnect to a recurrent layer's hidden-to-hidden
matrix through `torch.func.functional_call`, leaving the module's parameters untouched; nn.LSTM
then runs its fused kernel (cuDNN's on a GPU) on the dropped weights.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn


class LockedDropout(nn.Module):
    """Dropout whose mask is shared across time: input (time, batch, features)."""

    def __init__(self, p: float, variational: bool = True):
        super().__init__()
        self.p, self.variational = p, variational

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if not self.variational:
            return F.dropout(x, self.p, True)
        mask = x.new_empty(1, x.size(1), x.size(2)).bernoulli_(1 - self.p) / (1 - self.p)
        return x * mask


def embedding_dropout(embedding: nn.Embedding, ids: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Look up ids with whole rows of the embedding matrix dropped (Gal & Ghahramani 2016)."""
    weight = embedding.weight
    if training and p > 0:
        keep = weight.new_empty(weight.size(0), 1).bernoulli_(1 - p) / (1 - p)
        weight = weight * keep
    return F.embedding(ids, weight, embedding.padding_idx)


def with_weight_drop(module: nn.Module, p: float, training: bool):
    """`module` as a callable whose hidden-to-hidden matrices (every `weight_hh_l0` in it) carry one
    DropConnect mask, drawn now: the calls made through it share that mask."""
    if not training or p == 0:
        return module
    params = {name: F.dropout(w, p, True) if name.endswith("weight_hh_l0") else w
              for name, w in module.named_parameters()}

    if not any(w.is_cuda for w in params.values()):
        return lambda *args: torch.func.functional_call(module, params, args)

    def call(*args):
        with warnings.catch_warnings():    # cuDNN copies the dropped weights into one block: expected here
            warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
            return torch.func.functional_call(module, params, args)
    return call


def call_with_weight_drop(layer: nn.Module, p: float, training: bool, *args):
    """Run a one-layer nn.RNN/LSTM/GRU with DropConnect on weight_hh_l0 for this call only."""
    return with_weight_drop(layer, p, training)(*args)


def activity_penalty(raw: torch.Tensor, dropped: torch.Tensor, activation_reg: float, temporal_reg: float,
                     training: bool = True):
    """AWD-LSTM's AR (size of the dropped outputs) plus TAR (change of the raw outputs over time);
    None outside training or with both weights 0."""
    if not training or not (activation_reg or temporal_reg):
        return None
    return activation_reg * dropped.pow(2).mean() + temporal_reg * (raw[1:] - raw[:-1]).pow(2).mean()

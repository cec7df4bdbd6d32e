"""A stack of recurrent layers with dropout between them; time-major throughout.

Each layer is its own one-layer nn.RNN / nn.LSTM / nn.GRU (fused kernels, cuDNN on GPU), so
that locked dropout can sit between layers and weight drop can act per layer; the peephole LSTM
(rnnlab.models.cells) is a loop over time with nn.LSTM's interface. State is a list with one entry
per layer: a tensor (1, batch, hidden), or (h, c) for the LSTMs.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.config import ModelConfig
from rnnlab.models.cells import PeepholeLSTM, ProjectedDropoutLSTM
from rnnlab.models.regularize import LockedDropout, call_with_weight_drop

State = list
LSTM_CELLS = ("lstm", "lstm-peephole")          # cells whose state is (h, c)


def make_layer(cell: str, input_size: int, hidden_size: int, config: ModelConfig) -> nn.Module:
    if config.dropout_site == "projected":
        if cell != "lstm":
            from rnnlab.errors import RnnlabError
            raise RnnlabError("--dropout-site projected (the seed's Chainer layer) exists for --cell lstm only")
        return ProjectedDropoutLSTM(input_size, hidden_size, config.dropout)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size)
    if cell == "lstm-peephole":
        return PeepholeLSTM(input_size, hidden_size)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size)
    return nn.RNN(input_size, hidden_size, nonlinearity="relu" if cell == "rnn-relu" else "tanh")


class StackedRecurrent(nn.Module):
    """Layers of one cell type; input (time, batch, input_size) -> (time, batch, output_size)."""

    def __init__(self, config: ModelConfig, input_size: int, output_size: int | None = None):
        super().__init__()
        self.config = config
        sizes = [input_size] + [config.hidden] * config.layers
        if output_size:
            sizes[-1] = output_size
        self.sizes = sizes
        self.layers = nn.ModuleList(make_layer(config.cell, sizes[i], sizes[i + 1], config)
                                    for i in range(config.layers))
        between = 0.0 if config.dropout_site == "projected" else config.dropout
        self.between = LockedDropout(between, config.variational)

    def initial_state(self, batch_size: int, device=None) -> State:
        state = []
        for size in self.sizes[1:]:
            zeros = torch.zeros(1, batch_size, size, device=device)
            state.append((zeros, zeros.clone()) if self.config.cell in LSTM_CELLS else zeros)
        return state

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        new_state = []
        for index, layer in enumerate(self.layers):
            if index > 0:
                x = self.between(x)
            if isinstance(layer, ProjectedDropoutLSTM):
                x, layer_state = layer(x, state[index])
            else:
                x, layer_state = call_with_weight_drop(layer, self.config.weight_drop, self.training,
                                                       x, state[index])
            new_state.append(layer_state)
        return x, new_state


def map_state(state: State, fn) -> State:
    """Apply fn to every tensor of a state (per layer a tensor, or (h, c) for LSTM)."""
    return [tuple(fn(t) for t in s) if isinstance(s, tuple) else fn(s) for s in state]


def detach_state(state: State) -> State:
    """Cut the graph at the window boundary, keep the values (truncated BPTT)."""
    return map_state(state, torch.Tensor.detach)


def select_state(state: State, index: torch.Tensor) -> State:
    """Reorder / pick batch entries of a state (beam search)."""
    return map_state(state, lambda t: t.index_select(1, index))

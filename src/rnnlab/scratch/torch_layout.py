"""The one place that states how a NumPy cell's weights map onto PyTorch's nn.RNN/LSTM/GRU.

    ours (the book's layout)                       PyTorch
    Wx (input, gates*hidden), Wh (hidden, ...)     weight_ih (gates*hidden, input), weight_hh: transposed
    LSTM gates f, g, i, o                          i, f, g, o
    one bias b (RNN, LSTM)                         bias_ih + bias_hh (only their sum matters)
    GRU gates r, z, n; b, bh                       r, z, n; bias_ih, bias_hh (the same)
"""

from __future__ import annotations

import numpy as np

from rnnlab.errors import RnnlabError

# For each cell: torch's gate blocks, in torch's order, as indices of our blocks.
TORCH_GATES_FROM_OURS = {"rnn": [0], "rnn-relu": [0], "lstm": [2, 0, 1, 3], "gru": [0, 1, 2]}


def map_weights(cell: str, weights: dict, to: str) -> dict:
    """Convert one layer's weights: to="torch" takes ours {Wx, Wh, b[, bh]} and returns
    {weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0}; to="numpy" the other way. Arrays are
    NumPy in both directions (the caller turns tensors into arrays), in the dtype given.
    """
    if cell not in TORCH_GATES_FROM_OURS:
        raise RnnlabError(f"unknown cell type {cell!r}; the NumPy engine has: {', '.join(TORCH_GATES_FROM_OURS)}")
    if "P" in weights:
        raise RnnlabError("a peephole LSTM has no PyTorch counterpart (nn.LSTM has no peepholes)")
    order = TORCH_GATES_FROM_OURS[cell]

    def blocks(a: np.ndarray, order: list[int]) -> np.ndarray:     # reorder gate blocks on axis 0
        parts = np.split(a, len(order))
        return np.concatenate([parts[k] for k in order])

    if to == "torch":
        out = {"weight_ih_l0": blocks(weights["Wx"].T, order), "weight_hh_l0": blocks(weights["Wh"].T, order),
               "bias_ih_l0": blocks(weights["b"], order)}
        out["bias_hh_l0"] = blocks(weights["bh"], order) if cell == "gru" else np.zeros_like(out["bias_ih_l0"])
        return out
    if to == "numpy":
        back = list(np.argsort(order))                              # our blocks, as indices of torch's
        out = {"Wx": np.ascontiguousarray(blocks(weights["weight_ih_l0"], back).T),
               "Wh": np.ascontiguousarray(blocks(weights["weight_hh_l0"], back).T)}
        if cell == "gru":
            out["b"], out["bh"] = blocks(weights["bias_ih_l0"], back), blocks(weights["bias_hh_l0"], back)
        else:
            out["b"] = blocks(weights["bias_ih_l0"] + weights["bias_hh_l0"], back)
        return out
    raise ValueError(f"to must be 'torch' or 'numpy', not {to!r}")

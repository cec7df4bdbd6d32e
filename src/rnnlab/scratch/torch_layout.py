"""The one place that states how a NumPy cell's weights map onto PyTorch's nn.RNN/LSTM/GRU and
rnnlab.models.cells.PeepholeLSTM (cell `lstm-peephole`: the NumPy LSTM with peepholes=True).

    ours (the book's layout)                       PyTorch
    Wx (input, gates*hidden), Wh (hidden, ...)     weight_ih (gates*hidden, input), weight_hh: transposed
    LSTM gates f, g, i, o                          i, f, g, o
    one bias b (RNN, LSTM)                         bias_ih + bias_hh (only their sum matters)
    GRU gates r, z, n; b, bh                       r, z, n; bias_ih, bias_hh (the same)
    LSTM peepholes P (3, hidden), rows f, i, o     peephole_l0 (3*hidden), blocks i, f, o
"""

from __future__ import annotations

import numpy as np

from rnnlab.errors import RnnlabError

# For each cell: torch's gate blocks, in torch's order, as indices of our blocks.
TORCH_GATES_FROM_OURS = {"rnn": [0], "rnn-relu": [0], "lstm": [2, 0, 1, 3], "lstm-peephole": [2, 0, 1, 3],
                         "gru": [0, 1, 2]}
# The peepholes: torch's blocks p_i, p_f, p_o as rows of our P (f, i, o).
TORCH_PEEPHOLES_FROM_OURS = [1, 0, 2]


def map_weights(cell: str, weights: dict, to: str) -> dict:
    """Convert one layer's weights: to="torch" takes ours {Wx, Wh, b[, bh][, P]} and returns
    {weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0[, peephole_l0]}; to="numpy" the other way.
    Arrays are NumPy in both directions (the caller turns tensors into arrays), in the dtype given.
    """
    if cell not in TORCH_GATES_FROM_OURS:
        raise RnnlabError(f"unknown cell type {cell!r}; the NumPy engine has: {', '.join(TORCH_GATES_FROM_OURS)}")
    peepholes = "P" in weights or "peephole_l0" in weights
    if peepholes != (cell == "lstm-peephole"):
        raise RnnlabError("a peephole LSTM maps onto lstm-peephole (rnnlab.models.cells.PeepholeLSTM) and only it; "
                          f"these weights {'have' if peepholes else 'lack'} peepholes and the cell is {cell}")
    order = TORCH_GATES_FROM_OURS[cell]

    def blocks(a: np.ndarray, order: list[int]) -> np.ndarray:     # reorder gate blocks on axis 0
        parts = np.split(a, len(order))
        return np.concatenate([parts[k] for k in order])

    if to == "torch":
        out = {"weight_ih_l0": blocks(weights["Wx"].T, order), "weight_hh_l0": blocks(weights["Wh"].T, order),
               "bias_ih_l0": blocks(weights["b"], order)}
        out["bias_hh_l0"] = blocks(weights["bh"], order) if cell == "gru" else np.zeros_like(out["bias_ih_l0"])
        if peepholes:
            out["peephole_l0"] = weights["P"][TORCH_PEEPHOLES_FROM_OURS].reshape(-1)
        return out
    if to == "numpy":
        back = list(np.argsort(order))                              # our blocks, as indices of torch's
        out = {"Wx": np.ascontiguousarray(blocks(weights["weight_ih_l0"], back).T),
               "Wh": np.ascontiguousarray(blocks(weights["weight_hh_l0"], back).T)}
        if cell == "gru":
            out["b"], out["bh"] = blocks(weights["bias_ih_l0"], back), blocks(weights["bias_hh_l0"], back)
        else:
            out["b"] = blocks(weights["bias_ih_l0"] + weights["bias_hh_l0"], back)
        if peepholes:
            rows = weights["peephole_l0"].reshape(3, -1)
            out["P"] = np.ascontiguousarray(rows[list(np.argsort(TORCH_PEEPHOLES_FROM_OURS))])
        return out
    raise ValueError(f"to must be 'torch' or 'numpy', not {to!r}")

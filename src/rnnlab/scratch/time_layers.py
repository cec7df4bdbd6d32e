"""A cell unrolled over time, stateful, trained with truncated backpropagation through time.

Only the recurrence runs step by step. The input's share of every step (x Wx + b) is one product
before the loop; the weight gradients of every step are one product each after it.
Stateful: the last state of one window starts the next, while the gradient stops at the window's
first step (truncated BPTT), exactly as `rnnlab.train` carries the state between windows.
"""

from __future__ import annotations

import numpy as np

from rnnlab.scratch.cells import Cell
from rnnlab.scratch.layers import expect


class TimeRecurrent:
    """xs (time, batch, input) -> hs (time, batch, hidden) through one cell."""

    def __init__(self, cell: Cell, stateful: bool = True):
        self.cell, self.stateful = cell, stateful
        self.params, self.grads = cell.params, cell.grads
        self.state = None          # carried to the next forward when stateful
        self.dstate = None         # d(loss)/d(first state) of the last backward
        self.saved = None

    def reset_state(self) -> None:
        self.state = None

    def forward(self, xs: np.ndarray) -> np.ndarray:
        cell, p = self.cell, self.params
        T, N, D = xs.shape
        expect(D == cell.input_size, f"TimeRecurrent({type(cell).__name__}): input {xs.shape} must be "
                                     f"(time, batch, {cell.input_size})")
        state = self.state if self.stateful and self.state is not None else cell.initial_state(N)
        expect(state[0].shape[0] == N, f"TimeRecurrent: carried state has batch {state[0].shape[0]} but the "
                                       f"input has batch {N}; call reset_state() first")
        flat = xs.reshape(T * N, D)                               # (time*batch, input), a view
        xw = flat @ p["Wx"]
        xw += p["b"]
        xw = xw.reshape(T, N, -1)                                 # (time, batch, gates*hidden)
        hs = np.empty((T + 1, N, cell.hidden_size), cell.dtype)   # hs[0]: the state we start from
        hs[0] = state[0]
        caches = []
        for t in range(T):
            h, state, cache = cell.forward(xw[t], state)
            hs[t + 1] = h
            caches.append(cache)
        self.state = state
        self.saved = (flat, hs, caches)
        return hs[1:]

    def backward(self, dhs: np.ndarray, dstate: tuple | None = None) -> np.ndarray:
        """dhs (time, batch, hidden) -> dxs (time, batch, input); dstate: gradient on the last state."""
        cell, p, g = self.cell, self.params, self.grads
        flat, hs, caches = self.saved
        T, N, H = dhs.shape
        dxw = np.empty((T, N, cell.gates * H), cell.dtype)        # pre-activation gradients, all steps
        dhw = dxw if cell.shared_grads else np.empty_like(dxw)
        for grad in g.values():
            grad.fill(0)
        cell.begin_backward()
        if dstate is None:
            dstate = tuple(np.zeros((N, H), cell.dtype) for _ in range(cell.state_size))
        for t in reversed(range(T)):
            dstate = (dstate[0] + dhs[t],) + dstate[1:]
            dstate = cell.backward(dstate, caches[t], dxw[t], dhw[t])
        self.dstate = dstate                                      # truncated BPTT: it stops here
        dxw_flat, dhw_flat = dxw.reshape(T * N, -1), dhw.reshape(T * N, -1)
        np.matmul(flat.T, dxw_flat, out=g["Wx"])
        dxw_flat.sum(axis=0, out=g["b"])
        np.matmul(hs[:-1].reshape(T * N, H).T, dhw_flat, out=g["Wh"])
        if "bh" in g:
            dhw_flat.sum(axis=0, out=g["bh"])
        return (dxw_flat @ p["Wx"].T).reshape(T, N, -1)

    def activations(self) -> dict[str, np.ndarray]:
        """The last forward's named activations, each (time, batch, hidden): gates, cell, hidden."""
        _, hs, caches = self.saved
        steps = [self.cell.describe(cache) for cache in caches]
        named = {name: np.stack([step[name] for step in steps]) for name in (steps[0] if steps else {})}
        named["hidden"] = hs[1:]
        return named

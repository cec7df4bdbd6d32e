"""One time step of the RNN (tanh or ReLU), LSTM (optionally with peepholes) and GRU, in NumPy.

A cell holds Wx (input, gates*hidden), Wh (hidden, gates*hidden) and b (gates*hidden): the
gates' affine maps stacked side by side, computed as one product and sliced, as in the book.
The input's share `xw = x Wx + b` does not depend on the previous step, so the time layer
computes it for every step in one product and hands the cell one row block per step; the cell
adds `h_prev Wh`, which must wait for the step before. Likewise `backward` returns the gradient
of the gates' pre-activations and the time layer turns those of all steps into dWx, dWh and db
with one product each. State is a tuple whose first entry is h: (h,) or (h, c) for the LSTM.
"""

from __future__ import annotations

import numpy as np

from rnnlab.errors import RnnlabError
from rnnlab.scratch.layers import sigmoid, uniform


class Cell:
    """What the three cells share: parameters, gradients, initial state."""

    gates = 1                      # affine maps stacked in Wx, Wh, b
    state_size = 1                 # h, or h and c
    shared_grads = True            # d(xw) and d(h_prev Wh) are the same array (not for GRU)

    def __init__(self, input_size: int, hidden_size: int, rng: np.random.Generator, dtype=np.float32):
        self.input_size, self.hidden_size = input_size, hidden_size
        width, bound = self.gates * hidden_size, 1 / np.sqrt(hidden_size)    # PyTorch's default init
        self.params = {"Wx": uniform(rng, (input_size, width), bound, dtype),
                       "Wh": uniform(rng, (hidden_size, width), bound, dtype),
                       "b": uniform(rng, (width,), bound, dtype)}
        self.grads = {}

    def finish_init(self) -> None:
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.Wh_T = None

    def begin_backward(self) -> None:
        """Take Wh's transpose once per backward pass, for the per-step product d(pre-activation) Wh^T.

        A contiguous copy makes that small product a plain GEMM. Measured on a busy 2-core machine
        with two BLAS threads, the product with the transposed view stalled for milliseconds at a
        time (about 13 ms on average against 0.1 ms); the plain one did not.
        """
        self.Wh_T = np.ascontiguousarray(self.params["Wh"].T)      # (gates*hidden, hidden)

    @property
    def dtype(self):
        return self.params["Wx"].dtype

    def initial_state(self, batch_size: int) -> tuple:
        return tuple(np.zeros((batch_size, self.hidden_size), self.dtype) for _ in range(self.state_size))


class RNNCell(Cell):
    """h = tanh(x Wx + h_prev Wh + b), or ReLU in place of tanh (the seed's exploding variant)."""

    def __init__(self, input_size, hidden_size, rng, dtype=np.float32, nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size, rng, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise RnnlabError(f"RNNCell: nonlinearity must be tanh or relu, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.finish_init()

    def forward(self, xw: np.ndarray, state: tuple) -> tuple[np.ndarray, tuple, tuple]:
        """xw (batch, hidden): this step's x Wx + b. Returns h, the new state, and the cache."""
        (h_prev,) = state
        a = h_prev @ self.params["Wh"]
        a += xw
        h = np.tanh(a, out=a) if self.nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        return h, (h,), (h,)

    def backward(self, dstate: tuple, cache: tuple, dxw: np.ndarray, dhw: np.ndarray) -> tuple:
        """d(loss)/d(state) -> d(loss)/d(previous state); the pre-activation gradient goes to dxw."""
        (dh,), (h,) = dstate, cache
        if self.nonlinearity == "tanh":
            np.multiply(h, h, out=dxw)
            np.subtract(1.0, dxw, out=dxw)                    # tanh' = 1 - h^2
            dxw *= dh
        else:
            np.multiply(dh, h > 0, out=dxw)                   # relu' = 1 where h > 0
        return (dxw @ self.Wh_T,)

    def describe(self, cache) -> dict[str, np.ndarray]:
        return {}


class LSTMCell(Cell):
    """c = f*c_prev + i*g, h = o*tanh(c); gates f, g, i, o side by side (the book's order).

    With peepholes (Gers & Schmidhuber 2000) the gates also look at the cell: i and f at c_prev,
    o at the new c, through the diagonal weights P (3, hidden) in the order f, i, o.
    """

    gates, state_size = 4, 2

    def __init__(self, input_size, hidden_size, rng, dtype=np.float32, peepholes: bool = False):
        super().__init__(input_size, hidden_size, rng, dtype)
        self.peepholes = peepholes
        if peepholes:
            self.params["P"] = uniform(rng, (3, hidden_size), 1 / np.sqrt(hidden_size), dtype)
        self.finish_init()

    def split(self, a: np.ndarray) -> tuple[np.ndarray, ...]:
        """Views f, g, i, o of a (batch, 4*hidden)."""
        H = self.hidden_size
        return a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]

    def forward(self, xw, state):
        h_prev, c_prev = state
        a = h_prev @ self.params["Wh"]
        a += xw                                               # (batch, 4H) pre-activations
        f, g, i, o = self.split(a)
        if self.peepholes:
            P = self.params["P"]
            f += c_prev * P[0]
            i += c_prev * P[1]
        sigmoid(f, out=f), np.tanh(g, out=g), sigmoid(i, out=i)   # a now holds the gates
        c = f * c_prev
        c += i * g
        if self.peepholes:
            o += c * self.params["P"][2]
        sigmoid(o, out=o)
        tanh_c = np.tanh(c)
        h = o * tanh_c
        return h, (h, c), (a, c_prev, c, tanh_c)

    def backward(self, dstate, cache, dxw, dhw):
        (dh, dc_next), (a, c_prev, c, tanh_c) = dstate, cache
        f, g, i, o = self.split(a)
        df, dg, di, do = self.split(dxw)                      # written in place: dxw is the gate gradient
        np.multiply(dh, tanh_c, out=do)
        do *= o * (1 - o)                                     # through the sigmoid
        dc = (dh * o) * (1 - tanh_c * tanh_c)
        dc += dc_next                                         # the constant error carousel
        if self.peepholes:
            dc += do * self.params["P"][2]
        np.multiply(dc, c_prev, out=df)
        df *= f * (1 - f)
        np.multiply(dc, g, out=di)
        di *= i * (1 - i)
        np.multiply(dc, i, out=dg)
        dg *= 1 - g * g
        dc_prev = dc * f
        if self.peepholes:
            P, dP = self.params["P"], self.grads["P"]
            dc_prev += df * P[0] + di * P[1]
            dP[0] += (df * c_prev).sum(axis=0)
            dP[1] += (di * c_prev).sum(axis=0)
            dP[2] += (do * c).sum(axis=0)
        return dxw @ self.Wh_T, dc_prev

    def describe(self, cache) -> dict[str, np.ndarray]:
        """Named activations of one step, for pictures: gates, cell state."""
        a, _, c, _ = cache
        f, g, i, o = self.split(a)
        return {"input": i, "forget": f, "output": o, "cell": c}


class GRUCell(Cell):
    """PyTorch's GRU: r, z = sigmoid(..), n = tanh(x Wxn + b_n + r*(h_prev Whn + bh_n)),
    h = (1 - z)*n + z*h_prev. Gates r, z, n. The reset gate acts on h_prev Whn + bh_n, so the
    hidden side has its own bias bh and its own pre-activation gradient (dhw != dxw for n).
    """

    gates, shared_grads = 3, False

    def __init__(self, input_size, hidden_size, rng, dtype=np.float32):
        super().__init__(input_size, hidden_size, rng, dtype)
        self.params["bh"] = uniform(rng, (3 * hidden_size,), 1 / np.sqrt(hidden_size), dtype)
        self.finish_init()

    def split(self, a):
        H = self.hidden_size
        return a[:, :H], a[:, H:2 * H], a[:, 2 * H:]

    def forward(self, xw, state):
        (h_prev,) = state
        hw = h_prev @ self.params["Wh"]
        hw += self.params["bh"]                               # (batch, 3H)
        xr, xz, xn = self.split(xw)
        hr, hz, hn = self.split(hw)
        r = sigmoid(xr + hr)
        z = sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = n + z * (h_prev - n)                              # (1 - z)*n + z*h_prev
        return h, (h,), (r, z, n, hn, h_prev)

    def backward(self, dstate, cache, dxw, dhw):
        (dh,), (r, z, n, hn, h_prev) = dstate, cache
        dxr, dxz, dxn = self.split(dxw)
        dhr, dhz, dhn = self.split(dhw)
        np.multiply(dh * (1 - z), 1 - n * n, out=dxn)        # through n's tanh
        np.multiply(dh * (h_prev - n), z * (1 - z), out=dxz)
        np.multiply(dxn * hn, r * (1 - r), out=dxr)
        np.multiply(dxn, r, out=dhn)                          # the reset gate scales the hidden share
        dhr[...] = dxr
        dhz[...] = dxz
        dh_prev = dhw @ self.Wh_T
        dh_prev += dh * z
        return (dh_prev,)

    def describe(self, cache):
        r, z, n, _, _ = cache
        return {"update": z, "reset": r, "candidate": n}


CELLS = ("rnn", "rnn-relu", "lstm", "gru")


def make_cell(kind: str, input_size: int, hidden_size: int, rng: np.random.Generator, dtype=np.float32,
              peepholes: bool = False) -> Cell:
    """A cell by the names `--cell` uses: rnn, rnn-relu, lstm, gru."""
    if peepholes and kind != "lstm":
        raise RnnlabError(f"peepholes exist for the lstm cell only, not {kind!r}")
    if kind == "lstm":
        return LSTMCell(input_size, hidden_size, rng, dtype, peepholes)
    if kind == "gru":
        return GRUCell(input_size, hidden_size, rng, dtype)
    if kind in ("rnn", "rnn-relu"):
        return RNNCell(input_size, hidden_size, rng, dtype, "relu" if kind == "rnn-relu" else "tanh")
    raise RnnlabError(f"unknown cell type {kind!r}; the NumPy engine has: {', '.join(CELLS)}")

"""Feed-forward layers in NumPy: embedding, affine, softmax with loss, (variational) dropout.

Each layer keeps `params` and `grads` (dicts name -> array, same keys) and has `forward` and
`backward` next to each other. `backward` takes d(loss)/d(output) and returns d(loss)/d(input),
and writes the parameter gradients of the last forward into `grads` (set, not added).
"""

from __future__ import annotations

import numpy as np

from rnnlab.errors import RnnlabError


def expect(condition: bool, message: str) -> None:
    """Raise the one-line error users see when shapes or options do not fit."""
    if not condition:
        raise RnnlabError(message)


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2, which never overflows; out may be x."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def uniform(rng: np.random.Generator, shape: tuple, bound: float, dtype) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Embedding:
    """Token ids -> rows of W (vocab, dim). Ids of any shape; output adds a last axis."""

    def __init__(self, vocab_size: int, dim: int, rng: np.random.Generator, dtype=np.float32):
        self.params = {"W": uniform(rng, (vocab_size, dim), 0.1, dtype)}
        self.grads = {"W": np.zeros_like(self.params["W"])}
        self.ids = None

    def forward(self, ids: np.ndarray) -> np.ndarray:
        vocab = self.params["W"].shape[0]
        expect(np.issubdtype(ids.dtype, np.integer), f"Embedding: ids must be integers, got {ids.dtype}")
        if ids.size and not (0 <= ids.min() and ids.max() < vocab):
            raise RnnlabError(f"Embedding: ids must lie in [0, {vocab}), got [{ids.min()}, {ids.max()}]")
        self.ids = ids
        return self.params["W"][ids]                                   # (*ids.shape, dim)

    def backward(self, dout: np.ndarray) -> None:
        """Rows used several times collect the sum of their gradients (np.add.at)."""
        grad = self.grads["W"]
        grad.fill(0)
        np.add.at(grad, self.ids.reshape(-1), dout.reshape(-1, grad.shape[1]))
        return None


class Affine:
    """x W + b with W (in, out) as in the book; x (..., in) -> (..., out)."""

    def __init__(self, in_size: int, out_size: int, rng: np.random.Generator, dtype=np.float32,
                 bias: bool = True):
        bound = 1 / np.sqrt(in_size)
        self.params = {"W": uniform(rng, (in_size, out_size), bound, dtype)}
        if bias:
            self.params["b"] = uniform(rng, (out_size,), bound, dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        W = self.params["W"]
        expect(x.shape[-1] == W.shape[0], f"Affine: input {x.shape} does not fit weight {W.shape} "
                                          f"(last axis must be {W.shape[0]})")
        self.x = x.reshape(-1, W.shape[0])                             # (rows, in); a view if x is contiguous
        out = self.x @ W
        if "b" in self.params:
            out += self.params["b"]
        return out.reshape(*x.shape[:-1], W.shape[1])

    def backward(self, dout: np.ndarray) -> np.ndarray:
        W = self.params["W"]
        flat = dout.reshape(-1, W.shape[1])                            # (rows, out)
        np.matmul(self.x.T, flat, out=self.grads["W"])
        if "b" in self.params:
            flat.sum(axis=0, out=self.grads["b"])
        return (flat @ W.T).reshape(*dout.shape[:-1], W.shape[0])


class SoftmaxWithLoss:
    """Summed cross-entropy of softmax(scores) against integer targets; scores (rows, classes).

    To spare the (rows, vocab) array at word level its trips to memory, the scores are turned
    into probabilities in place and backward turns them into the gradient in place: the caller
    hands its scores over and must not read them afterwards.
    """

    def __init__(self):
        self.params, self.grads = {}, {}
        self.probs = self.targets = None

    def forward(self, scores: np.ndarray, targets: np.ndarray, keep: bool = True) -> float:
        """Sum over rows of -log softmax(scores)[target]; keep=False skips what backward needs."""
        expect(scores.ndim == 2 and targets.shape == scores.shape[:1],
               f"SoftmaxWithLoss: scores {scores.shape} and targets {targets.shape} must be (rows, classes) "
               "and (rows,)")
        rows = np.arange(scores.shape[0])
        scores -= scores.max(axis=1, keepdims=True)                   # shift: exp never overflows
        picked = scores[rows, targets]                                 # fancy index: a copy
        np.exp(scores, out=scores)
        total = scores.sum(axis=1, keepdims=True)                      # (rows, 1)
        loss = float(np.log(total).sum() - picked.sum())
        if keep:
            scores /= total                                            # probabilities
            self.probs, self.targets = scores, targets
        return loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """d(dout * loss)/d(scores) = dout * (softmax - one_hot), written over the probabilities."""
        grad = self.probs
        grad[np.arange(grad.shape[0]), self.targets] -= 1.0
        if dout != 1.0:
            grad *= dout
        self.probs = None
        return grad


class AffineSoftmaxWithLoss:
    """Affine then SoftmaxWithLoss as one layer: the same numbers, fewer passes over the scores.

    At word level the (rows, vocab) scores are most of the work besides the products. Here W and b
    are the rows of one array, so one product of [x, 1] adds the bias and one gives [dW; db]; the
    scores are only exponentiated in place; the per-row normalisation 1/sum and the upstream factor
    are applied to the small factors of the products ([x, 1] before the transpose product, the
    (rows, in) result of E W^T), and the one-hot part of softmax - one_hot to a few columns after.
    The usual shift by the row maximum is made only when a maximum leaves [-60, 60], where exp
    would leave float32's range.
    """

    def __init__(self, in_size: int, out_size: int, rng: np.random.Generator, dtype=np.float32):
        bound = 1 / np.sqrt(in_size)
        self.weights = uniform(rng, (in_size + 1, out_size), bound, dtype)    # rows of W, then b
        self.weight_grads = np.zeros_like(self.weights)
        self.params = {"W": self.weights[:in_size], "b": self.weights[in_size]}
        self.grads = {"W": self.weight_grads[:in_size], "b": self.weight_grads[in_size]}
        self.saved = None

    def tie(self, W: np.ndarray) -> None:
        """Use another layer's array (a view) as W: tied weights; the bias then takes its own passes."""
        self.params["W"] = W
        self.weights = self.weight_grads = None

    def scores(self, x: np.ndarray) -> np.ndarray:
        """x (rows, in) -> unnormalised log-probabilities (rows, out)."""
        return self._scores(x)[1]

    def _scores(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W = self.params["W"]
        expect(x.ndim == 2 and x.shape[1] == W.shape[0],
               f"AffineSoftmaxWithLoss: input {x.shape} does not fit weight {W.shape} (want (rows, {W.shape[0]}))")
        if self.weights is None:
            scores = x @ W
            scores += self.params["b"]
            return x, scores
        with_ones = np.empty((x.shape[0], x.shape[1] + 1), x.dtype)          # [x, 1]
        with_ones[:, :-1], with_ones[:, -1] = x, 1.0
        return with_ones, with_ones @ self.weights

    def forward(self, x: np.ndarray, targets: np.ndarray, keep: bool = True) -> float:
        """Summed NLL of targets (rows,) under softmax(x W + b)."""
        expect(targets.shape == x.shape[:1], f"AffineSoftmaxWithLoss: targets {targets.shape} must be ({x.shape[0]},)")
        inputs, exp = self._scores(x)
        row_max = exp.max(axis=1, keepdims=True)
        if np.abs(row_max).max() > 60:
            exp -= row_max                                         # NLL is the same for shifted scores
        picked = exp[np.arange(exp.shape[0]), targets]
        np.exp(exp, out=exp)                                       # the scores array, exponentiated
        total = exp.sum(axis=1)
        loss = float(np.log(total).sum() - picked.sum())
        self.saved = (x, inputs, targets, exp, total) if keep else None
        return loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """G = dout * (softmax - one_hot): dW = x^T G, db = sum G, dx = G W^T, without forming G."""
        x, inputs, targets, exp, total = self.saved
        W, grads = self.params["W"], self.grads
        scale = (dout / total).astype(exp.dtype)[:, None]          # (rows, 1): dout / row sum
        if self.weights is not None:
            np.matmul((inputs * scale).T, exp, out=self.weight_grads)          # [dW; db] in one product
        else:
            np.matmul((x * scale).T, exp, out=grads["W"])
            np.matmul(scale[:, 0], exp, out=grads["b"])
        np.subtract.at(grads["W"].T, targets, dout * x)           # the one-hot part: a column per row
        grads["b"] -= dout * np.bincount(targets, minlength=exp.shape[1]).astype(exp.dtype)
        dx = exp @ W.T
        dx *= scale
        dx -= dout * W.T[targets]
        self.saved = None
        return dx


class Dropout:
    """Inverted dropout. Variational (locked): one mask per sequence, shared by every time step.

    Input is time-major (time, batch, features); the variational mask is (1, batch, features).
    """

    def __init__(self, p: float, rng: np.random.Generator, variational: bool = False):
        expect(0 <= p < 1, f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.rng, self.variational = p, rng, variational
        self.params, self.grads = {}, {}
        self.mask = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        if not training or self.p == 0:
            self.mask = None
            return x
        shape = (1,) + x.shape[1:] if self.variational else x.shape
        keep = self.rng.random(shape, dtype=np.float32) >= self.p
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self.mask is None else dout * self.mask

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
        expect(ids.size == 0 or (0 <= ids.min() and ids.max() < vocab),
               f"Embedding: ids must lie in [0, {vocab}), got [{ids.min()}, {ids.max()}]")
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
        self.x = x.reshape(-1, W.shape[0])                             # (rows, in), a view
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
               f"SoftmaxWithLoss: scores {scores.shape} and targets {targets.shape} must be (rows, classes) and (rows,)")
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

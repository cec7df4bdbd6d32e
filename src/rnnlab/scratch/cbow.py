"""CBOW with negative sampling in NumPy, as the book's chapter 4 builds it, forward and backward.

The hidden vector is the mean of the context words' input embeddings; each target word and k
negative words drawn from the unigram distribution raised to 0.75 are scored by a dot product
with their output embeddings and a sigmoid; the loss is the binary cross-entropy of those
scores. Negatives for the whole batch are drawn in one call (the book draws them row by row,
which is most of its time).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from rnnlab.scratch.layers import expect, sigmoid


class UnigramSampler:
    """Negative words from the unigram distribution ** power (word2vec's 0.75)."""

    def __init__(self, corpus: np.ndarray, vocab_size: int, power: float = 0.75):
        counts = np.zeros(vocab_size, dtype=np.float64)
        for word, count in Counter(corpus.tolist()).items():
            counts[word] = count
        weights = counts ** power
        self.cumulative = np.cumsum(weights / weights.sum())

    def sample(self, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        """Word ids of the given shape, by inverse transform of one uniform draw each."""
        ids = np.searchsorted(self.cumulative, rng.random(shape), side="right")
        return np.minimum(ids, len(self.cumulative) - 1)


def contexts_and_targets(corpus: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(contexts (n, 2 * window), targets (n,)) for every position with a full window."""
    expect(len(corpus) > 2 * window, f"CBOW: the corpus has {len(corpus)} words; need more than {2 * window}")
    targets = corpus[window:-window]
    offsets = [o for o in range(-window, window + 1) if o != 0]
    contexts = np.stack([corpus[window + o:len(corpus) - window + o] for o in offsets], axis=1)
    return contexts, targets


class CBOW:
    """Input embeddings W_in (vocab, dim) and output embeddings W_out (vocab, dim), as in the book."""

    def __init__(self, vocab_size: int, dim: int, rng: np.random.Generator, dtype=np.float32):
        self.params = {"W_in": (0.01 * rng.standard_normal((vocab_size, dim))).astype(dtype),
                       "W_out": (0.01 * rng.standard_normal((vocab_size, dim))).astype(dtype)}
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.cache = None

    def forward(self, contexts: np.ndarray, targets: np.ndarray, negatives: np.ndarray) -> float:
        """Mean over the batch of the summed binary cross-entropy of the target and its negatives.
        contexts (batch, 2w), targets (batch,), negatives (batch, k)."""
        h = self.params["W_in"][contexts].mean(axis=1)                          # (batch, dim)
        words = np.concatenate([targets[:, None], negatives], axis=1)           # (batch, 1 + k)
        out = self.params["W_out"][words]                                       # (batch, 1 + k, dim)
        scores = np.einsum("bkd,bd->bk", out, h)                                # (batch, 1 + k)
        probs = sigmoid(scores)
        labels = np.zeros_like(probs)
        labels[:, 0] = 1
        eps = 1e-7
        loss = -(labels * np.log(probs + eps) + (1 - labels) * np.log(1 - probs + eps)).sum(axis=1).mean()
        self.cache = (contexts, words, h, out, probs, labels)
        return float(loss)

    def backward(self) -> None:
        """Gradients of the last forward's loss into `grads` (set, not added)."""
        contexts, words, h, out, probs, labels = self.cache
        batch = contexts.shape[0]
        dscores = (probs - labels) / batch                                      # (batch, 1 + k)
        dh = np.einsum("bk,bkd->bd", dscores, out)                              # (batch, dim)
        dout = dscores[:, :, None] * h[:, None, :]                              # (batch, 1 + k, dim)
        self.grads["W_out"].fill(0)
        np.add.at(self.grads["W_out"], words.reshape(-1), dout.reshape(-1, h.shape[1]))
        dcontext = np.repeat(dh[:, None, :] / contexts.shape[1], contexts.shape[1], axis=1)
        self.grads["W_in"].fill(0)
        np.add.at(self.grads["W_in"], contexts.reshape(-1), dcontext.reshape(-1, h.shape[1]))

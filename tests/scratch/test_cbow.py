"""The NumPy CBOW with negative sampling against the same network in PyTorch: loss and gradients."""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.scratch.cbow import CBOW, UnigramSampler, contexts_and_targets


def torch_cbow_loss(w_in, w_out, contexts, targets, negatives):
    h = w_in[contexts].mean(1)                                                  # (batch, dim)
    words = torch.cat([targets[:, None], negatives], 1)
    scores = torch.einsum("bkd,bd->bk", w_out[words], h)
    labels = torch.zeros_like(scores)
    labels[:, 0] = 1
    return torch.nn.functional.binary_cross_entropy_with_logits(scores, labels, reduction="sum") / len(targets)


def test_numpy_cbow_matches_pytorch_on_loss_and_gradients():
    rng = np.random.default_rng(0)
    corpus = rng.integers(0, 30, size=200)
    contexts, targets = contexts_and_targets(corpus, window=2)
    sampler = UnigramSampler(corpus, 30)
    negatives = sampler.sample((len(targets), 5), rng)
    model = CBOW(30, 8, rng, dtype=np.float64)
    for name in model.params:
        model.params[name] *= 30                                                # scores away from 0
    loss = model.forward(contexts, targets, negatives)
    model.backward()
    w_in = torch.tensor(model.params["W_in"], requires_grad=True)
    w_out = torch.tensor(model.params["W_out"], requires_grad=True)
    reference = torch_cbow_loss(w_in, w_out, torch.tensor(contexts), torch.tensor(targets), torch.tensor(negatives))
    reference.backward()
    assert abs(loss - reference.item()) < 1e-5
    assert np.allclose(model.grads["W_in"], w_in.grad.numpy(), atol=1e-9)
    assert np.allclose(model.grads["W_out"], w_out.grad.numpy(), atol=1e-9)


def test_windows_and_negatives():
    corpus = np.arange(10)
    contexts, targets = contexts_and_targets(corpus, window=1)
    assert targets.tolist() == list(range(1, 9))
    assert contexts[0].tolist() == [0, 2] and contexts[-1].tolist() == [7, 9]
    frequent = np.array([0] * 90 + [1] * 9 + [2])
    drawn = UnigramSampler(frequent, 3).sample((20000,), np.random.default_rng(1))
    shares = np.bincount(drawn, minlength=3) / drawn.size
    expected = np.array([90, 9, 1]) ** 0.75 / (np.array([90, 9, 1]) ** 0.75).sum()
    assert np.allclose(shares, expected, atol=0.01)


def test_training_lowers_the_loss():
    rng = np.random.default_rng(2)
    corpus = np.tile(np.array([0, 1, 2, 3, 4, 5, 6, 7]), 50)                   # a predictable sequence
    contexts, targets = contexts_and_targets(corpus, window=1)
    sampler = UnigramSampler(corpus, 8)
    model = CBOW(8, 6, rng)
    losses = []
    for _ in range(150):
        losses.append(model.forward(contexts, targets, sampler.sample((len(targets), 3), rng)))
        model.backward()
        for name in model.params:
            model.params[name] -= 1.0 * model.grads[name]
    assert losses[-1] < 0.5 * losses[0]

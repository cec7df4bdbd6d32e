"""The NumPy optimisers and clipping take the same steps as torch.optim and clip_grad_norm_."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.scratch.optim import SGD, Adam, clip_by_norm, global_norm


def run_both(ours, make_torch, steps: int = 5) -> tuple[dict, list]:
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    tensors = [torch.tensor(params[k].copy(), requires_grad=True) for k in ("a", "b")]
    reference = make_torch(tensors)
    for _ in range(steps):
        grads = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
        for t, k in zip(tensors, ("a", "b")):
            t.grad = torch.tensor(grads[k].copy())
        reference.step()
        ours.update(params, grads)
    return params, tensors


@pytest.mark.parametrize("momentum,decay", [(0.0, 0.0), (0.9, 0.01)])
def test_sgd_matches_torch(momentum, decay):
    params, tensors = run_both(SGD(0.1, momentum, decay),
                               lambda ts: torch.optim.SGD(ts, lr=0.1, momentum=momentum, weight_decay=decay))
    for t, k in zip(tensors, ("a", "b")):
        assert np.allclose(params[k], t.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw_match_torch(decoupled):
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    params, tensors = run_both(Adam(0.01, weight_decay=0.1, decoupled=decoupled),
                               lambda ts: kind(ts, lr=0.01, weight_decay=0.1))
    for t, k in zip(tensors, ("a", "b")):
        assert np.allclose(params[k], t.detach().numpy(), atol=1e-12)


def test_clip_by_norm_matches_torch_and_keeps_direction():
    rng = np.random.default_rng(1)
    grads = {"a": rng.standard_normal((5, 5)) * 3, "b": rng.standard_normal(5)}
    tensors = [torch.tensor(g.copy()) for g in grads.values()]
    for t in tensors:
        t.grad = t.clone()
    before = {k: g.copy() for k, g in grads.items()}
    norm = clip_by_norm(grads, 1.0)
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, 1.0)
    assert norm == pytest.approx(float(torch_norm))
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-5)
    for (k, g), t in zip(grads.items(), tensors):
        assert np.allclose(g, t.grad.numpy())
        assert np.allclose(g / np.linalg.norm(g), before[k] / np.linalg.norm(before[k]))


def test_clip_leaves_small_gradients_alone():
    grads = {"a": np.full(4, 0.1)}
    clip_by_norm(grads, 5.0)
    assert np.array_equal(grads["a"], np.full(4, 0.1))

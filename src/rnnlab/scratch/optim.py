"""SGD (with momentum) and Adam for dicts of NumPy arrays, and clipping by the global norm.

`update(params, grads)` changes the parameter arrays in place, so layers that share an array
(tied weights) see the change. The moments live in `state` keyed by parameter name, so a
checkpoint can save and restore them.
"""

from __future__ import annotations

import numpy as np


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """sqrt of the sum of squares of every gradient entry."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))


def clip_by_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients by max_norm / norm when their global norm exceeds max_norm.

    The direction is kept, only the step shrinks (the seed's exercise). Returns the norm before.
    """
    norm = global_norm(grads)
    if max_norm and norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads.values():
            g *= g.dtype.type(scale)
    return norm


class SGD:
    """p -= lr * (g + weight_decay * p), through a velocity when momentum > 0."""

    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                velocity = self.state.setdefault(name, {"velocity": np.zeros_like(p)})["velocity"]
                velocity *= self.momentum
                velocity += g
                g = velocity
            p -= p.dtype.type(self.lr) * g


class Adam:
    """Adam (Kingma & Ba 2015); decoupled=True gives AdamW's weight decay (Loshchilov & Hutter)."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay, self.decoupled = weight_decay, decoupled
        self.steps = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        correction1, correction2 = 1 - beta1 ** self.steps, 1 - beta2 ** self.steps
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay and not self.decoupled:
                g = g + self.weight_decay * p                   # L2 in the gradient, as torch.optim.Adam
            moments = self.state.setdefault(name, {"m": np.zeros_like(p), "v": np.zeros_like(p)})
            m, v = moments["m"], moments["v"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            if self.weight_decay and self.decoupled:
                p *= p.dtype.type(1 - self.lr * self.weight_decay)
            denominator = np.sqrt(v / correction2)
            denominator += self.eps
            p -= p.dtype.type(self.lr / correction1) * m / denominator

"""Numerical gradient checks: central differences against the analytic backward pass.

Run in float64: with eps = 1e-6 a correct backward agrees to about 1e-8 in relative error,
a wrong one by orders of magnitude more.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(loss: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d loss()/dx by central differences, nudging each entry of x in place (then restoring it)."""
    grad = np.zeros(x.shape, np.float64)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + eps
        plus = loss()
        x[index] = kept - eps
        minus = loss()
        x[index] = kept
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """|a - n| / (|a| + |n|) in the Euclidean norm; 0 when both vanish."""
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale > 0 else 0.0


def check(loss: Callable[[], float], analytic: dict[str, np.ndarray], wrt: dict[str, np.ndarray],
          eps: float = 1e-6) -> dict[str, float]:
    """Relative error of each analytic gradient against the numerical gradient of loss() w.r.t. wrt[name]."""
    return {name: relative_error(analytic[name], numerical_gradient(loss, array, eps))
            for name, array in wrt.items()}


def check_layer(layer, x: np.ndarray | None, rng: np.random.Generator, before: Callable[[], None] = lambda: None,
                eps: float = 1e-6) -> dict[str, float]:
    """Check a layer with forward(x) -> out and backward(dout) -> dx against loss = sum(out * R).

    R is a fixed random array, so d loss/d out = R reaches every output. `before` runs ahead of
    each forward (reset a carried state, reseed a dropout mask). An integer x (token ids for
    Embedding) has no gradient: only the parameters are checked then.
    """
    before()
    out = layer.forward(x)
    probe = rng.standard_normal(out.shape)

    def loss() -> float:
        before()
        return float((layer.forward(x) * probe).sum())

    before()
    layer.forward(x)
    dx = layer.backward(probe.astype(out.dtype))
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    wrt = dict(layer.params)
    if dx is not None and np.issubdtype(x.dtype, np.floating):
        analytic["x"], wrt["x"] = dx.copy(), x
    return check(loss, analytic, wrt, eps)

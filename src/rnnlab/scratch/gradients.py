"""Vanishing and exploding gradients, measured: the norm of d loss / d h_t against distance from the loss.

The task is the adding problem (Hochreiter & Schmidhuber 1997): two numbers marked somewhere in a
long sequence, their sum read from the last hidden state, so the loss depends on steps far back.
Every cell gets the same kind of weights: Gaussian recurrent weights of gain `recurrent_gain`, and
strong input weights (std `input_scale`) into its tanh / ReLU (the RNN's units, the LSTM's g, the
GRU's n; gates get std 1). There tanh units saturate and tanh' = 1 - h^2 collapses: the gradient
vanishes. ReLU units do not saturate and the gain of 2 compounds step after step: it explodes. The
LSTM's cell state carries it much further (the constant error carousel: forget gate biased open,
input gate biased closed as in Hochreiter & Schmidhuber 1997); so does the GRU's update gate.
With `clip`, the gradient flowing back is cut to that norm at every step: that tames the
explosion and cannot bring back what vanished.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.files import save_figure
from rnnlab.scratch.cells import Cell, make_cell


@dataclass
class GradientSetting:
    """The experiment's knobs; the defaults give the picture the seed notes describe."""

    length: int = 100              # time steps; the loss sits after the last one
    hidden: int = 32
    batch: int = 64                # norms are averaged over these sequences
    input_scale: float = 4.0       # std of the input weights: drives tanh into saturation
    recurrent_gain: float = 2.0    # recurrent weights ~ N(0, gain^2 / hidden)
    keep_bias: float = 3.0         # LSTM forget gate / GRU update gate bias: open, keep the past
    input_gate_bias: float = -2.0  # LSTM: mostly closed, so c does not drift into tanh's flat tails
    seed: int = 0


def adding_problem(length: int, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (time, batch, 2): a value in [0, 1] and a marker (one in each half); targets (batch,)."""
    values = rng.uniform(0.0, 1.0, (length, batch))
    markers = np.zeros((length, batch))
    columns = np.arange(batch)
    markers[rng.integers(0, length // 2, batch), columns] = 1.0
    markers[rng.integers(length // 2, length, batch), columns] = 1.0
    return np.stack([values, markers], axis=-1), (values * markers).sum(axis=0)


def experiment_cell(kind: str, setting: GradientSetting, rng: np.random.Generator) -> Cell:
    """A float64 cell with the experiment's weights (the same draws for every cell type)."""
    cell = make_cell(kind, 2, setting.hidden, rng, np.float64)
    H, width = setting.hidden, cell.gates * setting.hidden
    cell.params["Wx"][...] = rng.standard_normal((2, width))
    candidate = {"lstm": slice(H, 2 * H), "gru": slice(2 * H, 3 * H)}.get(kind, slice(0, H))
    cell.params["Wx"][:, candidate] *= setting.input_scale       # the tanh / ReLU's own input; gates: std 1
    cell.params["Wh"][...] = rng.standard_normal((H, width)) * setting.recurrent_gain / np.sqrt(H)
    for name in ("b", "bh"):
        if name in cell.params:
            cell.params[name][...] = 0.0
    if kind == "lstm":                                    # blocks f, g, i, o
        cell.params["b"][:H] = setting.keep_bias
        cell.params["b"][2 * H:3 * H] = setting.input_gate_bias   # as Hochreiter & Schmidhuber 1997 did
    if kind == "gru":                                     # blocks r, z, n
        cell.params["b"][H:2 * H] = setting.keep_bias
    return cell


def gradient_norms(kind: str, setting: GradientSetting, clip: float = 0.0) -> np.ndarray:
    """|d loss / d state_t| by distance from the loss (0 = last step): h, or h and c for the LSTM.

    loss = sum over sequences of (w . h_T - target)^2 / 2 with a fixed random readout w. The norms
    are multiplied step after step, so they are averaged as logs (geometric mean over sequences).
    clip > 0 rescales each sequence's state gradient to norm <= clip at every step.
    """
    rng = np.random.default_rng(setting.seed)
    cell = experiment_cell(kind, setting, rng)
    xs, targets = adding_problem(setting.length, setting.batch, rng)
    readout = rng.standard_normal(setting.hidden) / np.sqrt(setting.hidden)
    T, N = xs.shape[:2]
    xw = (xs.reshape(T * N, 2) @ cell.params["Wx"] + cell.params["b"]).reshape(T, N, -1)
    state, caches = cell.initial_state(N), []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            _, state, cache = cell.forward(xw[t], state)
            caches.append(cache)
        dstate = (np.outer(state[0] @ readout - targets, readout),) + tuple(
            np.zeros_like(s) for s in state[1:])                     # d loss / d (h_T, c_T)
        cell.begin_backward()
        dxw = np.empty((N, cell.gates * setting.hidden))
        dhw = dxw if cell.shared_grads else np.empty_like(dxw)
        norms = np.empty(T)
        for distance, t in enumerate(reversed(range(T))):
            if clip:
                dstate = clip_state_gradient(dstate, clip)
            per_sequence = np.sqrt(sum((d * d).sum(axis=1) for d in dstate))     # |d loss / d state_t|
            norms[distance] = np.exp(np.log(per_sequence).mean())                # geometric mean
            dstate = cell.backward(dstate, caches[t], dxw, dhw)
    return norms


def clip_state_gradient(dstate: tuple, max_norm: float) -> tuple:
    """Scale each sequence's (dh[, dc]) so that its joint norm is at most max_norm."""
    norm = np.sqrt(sum((d * d).sum(axis=1) for d in dstate))[:, None]      # (batch, 1)
    scale = np.minimum(1.0, max_norm / np.maximum(norm, 1e-300))
    return tuple(d * scale for d in dstate)


def run(cells: list[str], setting: GradientSetting, clip: float = 0.0) -> dict[str, dict[str, np.ndarray]]:
    """{cell: {"norms": ..., and "clipped": ... when clip}} for the chosen cells."""
    results = {}
    for kind in cells:
        results[kind] = {"norms": gradient_norms(kind, setting)}
        if clip:
            results[kind]["clipped"] = gradient_norms(kind, setting, clip)
    return results


def table(results: dict, distances: list[int] | None = None) -> str:
    """Rows: distance from the loss; columns: each cell (and its clipped run)."""
    length = len(next(iter(results.values()))["norms"])
    distances = distances or sorted({d for d in (0, 1, 2, 5, 10, 20, 50, length - 1) if d < length})
    columns = [(kind, key) for kind, runs in results.items() for key in runs]
    names = [kind if key == "norms" else f"{kind} clipped" for kind, key in columns]
    lines = ["distance " + "".join(f"{name:>18}" for name in names)]
    for d in distances:
        lines.append(f"{d:8d} " + "".join(f"{results[kind][key][d]:18.3e}" for kind, key in columns))
    return "\n".join(lines)


def plot(results: dict, setting: GradientSetting, clip: float, path: Path) -> None:
    """One log-scale plot: a line per cell, dashed when clipped."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for index, (kind, runs) in enumerate(results.items()):
        color = f"C{index}"
        ax.plot(np.where(np.isfinite(runs["norms"]), runs["norms"], np.nan), color=color, label=kind)
        if "clipped" in runs:
            ax.plot(runs["clipped"], color=color, linestyle="--", label=f"{kind}, clipped at {clip:g}")
    ax.set_yscale("log")
    ax.set_xlabel("distance from the loss (time steps back)")
    ax.set_ylabel("|d loss / d state_t|  (geometric mean over sequences)")
    ax.set_title(f"adding problem, {setting.length} steps, hidden {setting.hidden}: "
                 f"recurrent gain {setting.recurrent_gain:g}, input scale {setting.input_scale:g}")
    ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=100)


"""Gate activations, cell state and hidden state of each layer as heat maps, tokens along time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.files import save_figure

GATES = {"input", "forget", "output", "update", "reset"}      # in [0, 1]


def shown(token: str) -> str:
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(token, token)


def drawn_units(hidden: int, featured: list[int], max_units: int) -> list[int]:
    """The featured units first (those `inspect` lists), then the others in order, up to max_units."""
    first = list(dict.fromkeys(u for u in featured if 0 <= u < hidden))
    chosen = set(first)
    return (first + [u for u in range(hidden) if u not in chosen])[:max(max_units, len(first))]


def save_gate_picture(layers: list[dict[str, np.ndarray]], tokens: list[str], path: Path, title: str = "",
                      max_units: int = 48, featured: dict[int, list[int]] | None = None) -> None:
    """One panel per layer and activation (units x time); gates in [0, 1], states around 0.
    `featured` (layer number -> units) puts those units on top of the layer's panels, labelled."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(number, name, values) for number, layer in enumerate(layers, start=1) for name, values in layer.items()]
    width = min(max(8.0, 0.16 * len(tokens) + 2), 70.0)
    fig, axes = plt.subplots(len(panels), 1, figsize=(width, 1.5 * len(panels) + 1.2), sharex=True, squeeze=False)
    for axis, (number, name, values) in zip(axes[:, 0], panels):
        units = drawn_units(values.shape[1], (featured or {}).get(number, []), max_units)
        shown_units = values[:, units].T                            # (units, time)
        if name in GATES:
            image = axis.imshow(shown_units, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
        else:
            limit = max(float(np.abs(shown_units).max()), 1e-6)
            image = axis.imshow(shown_units, aspect="auto", interpolation="nearest", cmap="RdBu_r",
                                vmin=-limit, vmax=limit)
        axis.set_ylabel(f"layer {number}\n{name}", rotation=0, ha="right", va="center")
        labelled = len((featured or {}).get(number, []))
        axis.set_yticks(range(labelled), [f"u{u}" for u in units[:labelled]], fontsize=6)
        fig.colorbar(image, ax=axis, fraction=0.015, pad=0.01)
    bottom = axes[-1, 0]
    step = max(1, len(tokens) // 150)
    bottom.set_xticks(range(0, len(tokens), step), [shown(t) for t in tokens[::step]],
                      rotation=90 if max(map(len, tokens)) > 1 or step > 1 else 0, fontsize=8)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    save_figure(fig, path)

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


LABEL_POINTS = 6.0              # the unit labels' font size
LABEL_PITCH = LABEL_POINTS + 2  # least distance between two labels' centres, in points
PANEL_INCHES = 1.5              # a panel's height when its labels fit in it


def label_positions(rows: list[float], gap: float, lowest: float, highest: float) -> list[float]:
    """Where to write the labels of `rows` (in the same units, e.g. image rows) so that no two are
    closer than `gap`: each as near its row as the others allow, inside [lowest, highest] when they
    fit there (else spread evenly from lowest). Returned in the order of `rows`."""
    if not rows:
        return []
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    if gap * (len(rows) - 1) > highest - lowest:
        placed = [lowest + gap * k for k in range(len(rows))]
    else:
        placed = []
        for i in order:                                       # downwards: each at least `gap` past the last
            want = min(max(rows[i], lowest), highest)
            placed.append(want if not placed else max(want, placed[-1] + gap))
        overflow = placed[-1] - highest
        if overflow > 0:                                      # back up from the end, keeping the gaps
            placed[-1] = highest
            for k in range(len(placed) - 2, -1, -1):
                placed[k] = min(placed[k], placed[k + 1] - gap)
    out = [0.0] * len(rows)
    for k, i in enumerate(order):
        out[i] = placed[k]
    return out


def panel_inches(labels: int) -> float:
    """A panel's height: room for `labels` unit labels LABEL_PITCH apart (the image gets about 70%
    of its panel; margins take the rest), at least PANEL_INCHES."""
    return max(PANEL_INCHES, (labels + 1) * LABEL_PITCH / 72 / 0.7)


def label_rows(rows: int, labelled: int, points: float) -> tuple[list[float], float]:
    """Where to write the labels of an image's first `labelled` rows (in rows, row 0 on top; the
    image `rows` rows and `points` high), and the least distance between two of them, in rows:
    LABEL_PITCH points."""
    gap = LABEL_PITCH * rows / max(points, 1e-9)
    return label_positions([float(r) for r in range(labelled)], gap, -0.5 + gap / 2, rows - 0.5 - gap / 2), gap


def save_gate_picture(layers: list[dict[str, np.ndarray]], tokens: list[str], path: Path, title: str = "",
                      max_units: int = 48, featured: dict[int, list[int]] | None = None) -> None:
    """One panel per layer and activation (units x time); gates in [0, 1], states around 0.
    `featured` (layer number -> units) puts those units on top of the layer's panels, each labelled
    u<unit> beside its row, the labels spread apart (label_positions) so that none overlaps another."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(number, name, values) for number, layer in enumerate(layers, start=1) for name, values in layer.items()]
    width = min(max(8.0, 0.16 * len(tokens) + 2), 70.0)
    listed = {number: drawn_units(layers[number - 1][next(iter(layers[number - 1]))].shape[1], units, 0)
              for number, units in (featured or {}).items() if 1 <= number <= len(layers) and layers[number - 1]}
    heights = [panel_inches(len(listed.get(number, []))) for number, _, _ in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(width, sum(heights) + 1.2), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for axis, (number, name, values) in zip(axes[:, 0], panels):
        units = drawn_units(values.shape[1], listed.get(number, []), max_units)
        shown_units = values[:, units].T                            # (units, time)
        if name in GATES:
            image = axis.imshow(shown_units, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
        else:
            limit = max(float(np.abs(shown_units).max()), 1e-6)
            image = axis.imshow(shown_units, aspect="auto", interpolation="nearest", cmap="RdBu_r",
                                vmin=-limit, vmax=limit)
        labelled = len(listed.get(number, []))
        axis.set_yticks(range(labelled), [""] * labelled)          # a tick at each listed unit's row
        axis.set_ylabel(f"layer {number}\n{name}", rotation=0, ha="right", va="center",
                        labelpad=6 + (LABEL_ROOM if labelled else 0))   # room for the unit labels
        fig.colorbar(image, ax=axis, fraction=0.015, pad=0.01)
    bottom = axes[-1, 0]
    step = max(1, len(tokens) // 150)
    bottom.set_xticks(range(0, len(tokens), step), [shown(t) for t in tokens[::step]],
                      rotation=90 if max(map(len, tokens)) > 1 or step > 1 else 0, fontsize=8)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    for axis, (number, _, values) in zip(axes[:, 0], panels):      # labels once the panels' heights are known
        label_units(axis, drawn_units(values.shape[1], listed.get(number, []), max_units),
                    len(listed.get(number, [])), fig.dpi)
    save_figure(fig, path)


LABEL_ROOM = 34                 # points left of a panel for its unit labels and their leader lines


def label_units(axis, units: list[int], labelled: int, dpi: float) -> None:
    """u<unit> beside each of the panel's first `labelled` rows, LABEL_PITCH points apart at least,
    each joined to its row by a short line."""
    if not labelled:
        return
    points_per_row = axis.get_window_extent().height * 72 / dpi / len(units)
    positions, _ = label_rows(len(units), labelled, points_per_row * len(units))
    side = axis.get_yaxis_transform()                               # x in axes fractions, y in rows
    for row, (unit, where) in enumerate(zip(units, positions)):
        axis.annotate(f"u{unit}", xy=(0, row), xycoords=side, xytext=(-10, (row - where) * points_per_row),
                      textcoords="offset points", ha="right", va="center", fontsize=LABEL_POINTS,
                      arrowprops={"arrowstyle": "-", "lw": 0.4, "shrinkA": 0, "shrinkB": 0})

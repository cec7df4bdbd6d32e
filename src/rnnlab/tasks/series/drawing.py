"""Pictures of series output: a forecast after its history, a drawing from stroke-3 rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.files import save_figure


def plot_forecast(history: np.ndarray, forecast: np.ndarray, columns: list[str], path: Path,
                  shown_history: int = 400) -> None:
    """A PNG of forecast_figure."""
    save_figure(forecast_figure(history, forecast, columns, shown_history), path)


def forecast_figure(history: np.ndarray, forecast: np.ndarray, columns: list[str], shown_history: int = 400):
    """One panel per column: the last `shown_history` steps in grey, the forecast after them in colour."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.2 * len(columns) + 0.6))
    axes = fig.subplots(len(columns), 1, squeeze=False)
    history = history[-shown_history:]
    start = len(history)
    for index, (axis, name) in enumerate(zip(axes[:, 0], columns)):
        axis.plot(np.arange(start), history[:, index], color="0.5", label="data")
        axis.plot(np.arange(start, start + len(forecast)), forecast[:, index], color="C1", label="generated")
        axis.set_ylabel(name)
    axes[0, 0].legend(loc="upper left")
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    return fig


def strokes_to_lines(strokes: np.ndarray, origin=(0.0, 0.0)) -> list[np.ndarray]:
    """Stroke-3 rows (dx, dy, pen lifted after) -> polylines in absolute coordinates."""
    points = np.cumsum(strokes[:, :2], axis=0) + np.asarray(origin)
    lines, current = [], [np.asarray(origin)]
    for point, lifted in zip(points, strokes[:, 2]):
        current.append(point)
        if lifted > 0.5:
            if len(current) > 1:
                lines.append(np.array(current))
            current = []                                   # the move to the next point is not drawn
    if len(current) > 1:
        lines.append(np.array(current))
    return lines


def plot_drawing(prime: np.ndarray, generated: np.ndarray, path: Path) -> None:
    """A PNG of drawing_figure."""
    save_figure(drawing_figure(prime, generated), path)


def drawing_figure(prime: np.ndarray, generated: np.ndarray):
    """The prime's strokes in black and the generated ones in colour; y grows downwards as on screen."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5))
    axis = fig.subplots()
    end = tuple(np.sum(prime[:, :2], axis=0)) if len(prime) else (0.0, 0.0)
    for line in strokes_to_lines(prime):
        axis.plot(line[:, 0], line[:, 1], color="black", linewidth=2)
    for line in strokes_to_lines(generated, end):
        axis.plot(line[:, 0], line[:, 1], color="C1", linewidth=2)
    axis.set_aspect("equal")
    axis.invert_yaxis()
    axis.axis("off")
    fig.tight_layout()
    return fig

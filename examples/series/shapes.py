"""Write a folder of small hand-drawn-like shapes as stroke-3 CSV files (dx, dy, pen), one drawing each.

    python examples/series/shapes.py shapes/ --count 200
    rnnlab train shapes/ --modality series --pen-column pen --out runs/shapes

pen = 1 means the pen lifts after that point (sketch-rnn's stroke-3). Shapes: circles, squares,
triangles and zigzags, jittered, with a random size; some have two strokes.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np


def polygon(rng, corners: int, points_per_side: int = 4) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, corners + 1) + rng.uniform(0, np.pi)
    vertices = np.stack([np.cos(angles), np.sin(angles)], 1)
    path = [vertices[0]]
    for a, b in zip(vertices[:-1], vertices[1:]):
        for t in np.linspace(0, 1, points_per_side + 1)[1:]:
            path.append(a + t * (b - a))
    return np.array(path)


def circle(rng, points: int = 16) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, points + 1) + rng.uniform(0, np.pi)
    return np.stack([np.cos(angles), np.sin(angles) * rng.uniform(0.7, 1.0)], 1)


def zigzag(rng, teeth: int = 5) -> np.ndarray:
    xs = np.linspace(-1, 1, 2 * teeth + 1)
    return np.stack([xs, np.where(np.arange(len(xs)) % 2 == 0, -0.4, 0.4)], 1)


def drawing(rng) -> np.ndarray:
    """Stroke-3 rows for one random shape: offsets from the previous point, pen lifted at stroke ends."""
    kind = rng.integers(4)
    strokes = [[circle(rng), polygon(rng, 4), polygon(rng, 3), zigzag(rng)][kind]]
    if rng.random() < 0.3:                               # a second stroke: a dot-like cross in the middle
        strokes.append(np.array([[-0.2, 0.0], [0.2, 0.0]]))
    scale = rng.uniform(20, 60)
    rows, previous = [], np.zeros(2)
    for stroke in strokes:
        points = stroke * scale + rng.normal(0, 0.8, stroke.shape)
        for index, point in enumerate(points):
            rows.append([*(point - previous), 1.0 if index == len(points) - 1 else 0.0])
            previous = point
    return np.array(rows)


def write_shapes(folder: Path, count: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"shape_{index:04d}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["dx", "dy", "pen"])
            writer.writerows([[f"{dx:.3f}", f"{dy:.3f}", int(pen)] for dx, dy, pen in drawing(rng)])
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"wrote {len(write_shapes(args.folder, args.count, args.seed))} drawings to {args.folder}")

"""The benchmark pages' plots, drawn at build time from the small CSV tables beside them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SETTINGS = [("one_thread", "1 thread"), ("two_threads", "2 threads"), ("pytorch_default", "PyTorch default"),
            ("rnnlab_default", "rnnlab default")]


def png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def contention(table: list[dict]) -> bytes:
    """One panel per workload: each thread setting's figure with 0, 1 and 2 busy processes."""
    workloads = list(dict.fromkeys(r["workload"] for r in table))
    figure, axes = plt.subplots(2, 4, figsize=(13, 5.5))
    for axis, workload in zip(axes.flat, workloads):
        mine = [r for r in table if r["workload"] == workload]
        for i, (key, label) in enumerate(SETTINGS):
            xs = [int(r["busy_processes"]) + (i - 1.5) * 0.2 for r in mine]
            axis.bar(xs, [float(r[key]) for r in mine], width=0.2, label=label)
        axis.set_title(f"{workload} ({mine[0]['unit']})", fontsize=9)
        axis.set_xticks([0, 1, 2])
        axis.set_xlabel("busy processes", fontsize=8)
        axis.tick_params(labelsize=7)
    axes.flat[-1].axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, loc="center")
    figure.suptitle("Threads under contention (ms: lower is better; per second: higher is better)", fontsize=10)
    return png(figure)


def polyphonic(table: list[dict]) -> bytes:
    """Test frame NLL per set: rnnlab's two heads beside the published figures."""
    sets = list(dict.fromkeys(r["set"] for r in table))
    figure, axes = plt.subplots(1, len(sets), figsize=(13, 4.2), sharex=False)
    for axis, name in zip(axes, sets):
        mine = [r for r in table if r["set"] == name and r["model"] != "per-key rate"]
        values = [float(r["test_frame_nll"]) for r in mine]
        colours = ["tab:orange" if r["source"] == "rnnlab" else "tab:gray" for r in mine]
        axis.barh(range(len(mine)), values, color=colours)
        axis.set_yticks(range(len(mine)), [r["model"].replace(" (", "\n(") for r in mine], fontsize=6.5)
        axis.invert_yaxis()
        axis.set_xlim(min(values) * 0.9, max(values) * 1.03)
        for y, v in enumerate(values):
            axis.text(v, y, f" {v:g}", va="center", fontsize=7)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("test frame NLL (nats), lower is better", fontsize=7)
        axis.tick_params(axis="x", labelsize=7)
    figure.tight_layout()
    return png(figure)


def draw_all(folder: Path) -> dict[str, bytes]:
    return {"contention.png": contention(rows(folder / "contention.csv")),
            "polyphonic.png": polyphonic(rows(folder / "polyphonic.csv"))}

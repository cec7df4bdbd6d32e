"""Tiny trained runs (a character model, a series model, a stroke model) shared by the serve tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rnnlab.config import build_config
from rnnlab.tasks.registry import train

TINY = {"model": {"hidden": 16, "layers": 1},
        "train": {"epochs": 1, "batch_size": 4, "bptt": 8, "checkpoint_every": 0}}
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "series"))


def tiny_run(folder: Path, data: dict, epochs: int = 1, **own: dict) -> Path:
    """A tiny run of `data`; `own`: the task's own section ({"series": {...}})."""
    overrides = {"data": data, "model": dict(TINY["model"]), "train": {**TINY["train"], "epochs": epochs}, **own}
    train(build_config("", overrides), folder, log=lambda line: None)
    return folder


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """name -> run directory: `chars` (text, char level), `wave` (2-column series), `shapes` (strokes)."""
    import numpy as np
    from shapes import write_shapes

    root = tmp_path_factory.mktemp("serve-runs")
    text = root / "text.txt"
    text.write_text("the cat sat on the mat.\nthe dog sat on the log.\n" * 40, encoding="utf-8")
    t = np.arange(400)
    wave = root / "wave.csv"
    wave.write_text("a,b\n" + "\n".join(f"{np.sin(i / 5):.4f},{np.cos(i / 7):.4f}" for i in t) + "\n")
    write_shapes(root / "shapes-data", 40)
    return {"chars": tiny_run(root / "chars", {"corpus": str(text), "level": "char"}),
            "wave": tiny_run(root / "wave", {"corpus": str(wave), "modality": "series"}),
            "shapes": tiny_run(root / "shapes", {"corpus": str(root / "shapes-data"), "modality": "series"},
                               epochs=4, series={"pen_column": "pen"})}

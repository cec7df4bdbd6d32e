"""`rnnlab train / evaluate / generate` end to end on a series (the bundled sunspots) and on strokes."""

import csv
import json
import sys
from pathlib import Path

import pytest

from rnnlab.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "series"))
TINY = ["--epochs", "2", "--batch-size", "4", "--bptt", "16", "--hidden", "16", "--layers", "1"]


@pytest.mark.parametrize("head", ["gaussian", "mdn"])
def test_sunspots_train_evaluate_forecast(tmp_path, capsys, head):
    out = tmp_path / "sun"
    assert main(["train", "statsmodels:sunspots", "--modality", "series", "--columns", "SUNACTIVITY",
                 "--split", "0.8,0.1,0.1", "--head", head, "--out", str(out), *TINY]) == 0
    assert (out / "series.json").exists() and not (out / "vocab.json").exists()
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 31 and {"mean", "last value"} <= result["baselines"].keys()
    assert any(name.startswith("seasonal naive") for name in result["baselines"])
    import numpy as np

    from rnnlab.tasks.series.data import statsmodels_table
    spots = statsmodels_table("sunspots")[1]["SUNACTIVITY"]
    assert result["baselines"]["last value"]["mse"] == pytest.approx(np.mean(np.diff(spots)[-31:] ** 2))
    assert main(["evaluate", str(out)]) == 0
    assert "last value" in capsys.readouterr().out
    forecast = tmp_path / "forecast.csv"
    assert main(["generate", str(out), "--out", str(forecast), "--length", "12", "--seed", "1"]) == 0
    rows = list(csv.reader(forecast.open()))
    assert rows[0] == ["SUNACTIVITY"] and len(rows) == 13 and forecast.with_suffix(".png").stat().st_size > 1000
    before = forecast.read_bytes()
    assert main(["generate", str(out), "--out", str(forecast), "--length", "5", "--prime-file", str(forecast)]) == 2
    assert "is the --prime-file being read" in capsys.readouterr().err and forecast.read_bytes() == before
    header_only = tmp_path / "header.csv"
    header_only.write_text("SUNACTIVITY\n")
    assert main(["generate", str(out), "--out", str(tmp_path / "f2.csv"), "--prime-file", str(header_only)]) == 2
    assert "header.csv: has no rows to start from" in capsys.readouterr().err


# Enough updates (120 drawings, 15 epochs) for the pen head to learn more than "the pen stays down".
STROKES = ["--epochs", "15", "--batch-size", "8", "--bptt", "16", "--hidden", "32", "--layers", "1",
           "--lr", "0.02", "--split", "0.6,0.2,0.2"]


def majority_pen_accuracy(files: list[Path]) -> tuple[int, float]:
    """Scored steps of these drawings as stroke-5 rows (each point, then one `end` row per drawing), and
    the accuracy of always guessing the most frequent pen state (down, up, end) on them."""
    counts = [0, 0, len(files)]
    for path in files:
        for row in list(csv.reader(path.open()))[1:]:
            counts[int(row[2])] += 1
    return sum(counts), max(counts) / sum(counts)


def test_strokes_train_and_draw(tmp_path, capsys):
    from shapes import write_shapes

    files = write_shapes(tmp_path / "shapes", 120)
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "shapes"), "--modality", "series", "--pen-column", "pen",
                 "--out", str(out), *STROKES]) == 0
    assert json.loads((out / "series.json").read_text())["pen"] is True
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "zero offset" in result["baselines"]
    steps, majority = majority_pen_accuracy(sorted(files)[-24:])      # the test split: the last 20% of drawings
    assert result["steps"] == steps
    # the model must beat "always the most frequent pen state" (0.853 here) by at least 4 of the 380 steps
    assert result["model"]["pen_accuracy"] >= majority + 4 / steps, (result["model"]["pen_accuracy"], majority)
    drawing = tmp_path / "draw.csv"
    half_drawn = tmp_path / "start.csv"               # a whole drawing's likely continuation is its `end`
    half_drawn.write_text("".join((tmp_path / "shapes" / "shape_0000.csv").open().readlines()[:7]))
    assert main(["generate", str(out), "--out", str(drawing), "--length", "30", "--seed", "2",
                 "--prime-file", str(half_drawn)]) == 0
    rows = list(csv.reader(drawing.open()))
    assert rows[0] == ["dx", "dy", "pen"] and 1 <= len(rows) - 1 <= 30
    assert all(r[2] in ("0", "1") for r in rows[1:]) and drawing.with_suffix(".png").exists()


def test_series_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n2,y\n", encoding="utf-8")
    assert main(["train", str(bad), "--modality", "series", "--columns", "b", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv: column 'b' is not numeric (line 2 holds 'x')" in err and len(err.strip().splitlines()) == 1
    assert main(["train", str(tmp_path / "none.csv"), "--modality", "series", "--out", str(tmp_path / "r")]) == 2
    assert "none.csv: no such file or folder" in capsys.readouterr().err

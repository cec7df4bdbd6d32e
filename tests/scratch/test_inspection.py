"""`rnnlab inspect`: features, correlations, and the picture from a PyTorch-trained run."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.config import build_config
from rnnlab.scratch.inspection import Inspection, correlations, inspect_run, text_features, top_units
from rnnlab.tasks.registry import train

TEXT = 'He said "yes" and left.\nShe said "no, not today" and stayed.\n'


def test_text_features_follow_lines_and_quotes():
    features = text_features(list('ab "cd"\ne'))
    assert features["position in line"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0]
    assert features["inside quotes"].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0]
    japanese = text_features(list("彼は「はい」と"))
    assert japanese["inside quotes"].tolist() == [0, 0, 0, 1, 1, 1, 0]
    words = text_features(["a", "b", "<eos>", "c"])
    assert words["position in line"].tolist() == [0, 1, 2, 0]


def test_correlations_find_the_unit_that_copies_a_feature():
    rng = np.random.default_rng(0)
    feature = rng.standard_normal(50)
    activations = rng.standard_normal((50, 4))
    activations[:, 2] = 3 * feature + 1
    activations[:, 3] = 0.5                                  # constant: no correlation, no division by zero
    r = correlations(activations, feature)
    assert r[2] == pytest.approx(1.0) and r[3] == 0.0 and abs(r[0]) < 0.5
    seen = Inspection(["x"] * 50, [{"cell": activations}], {"f": feature, "flat": np.zeros(50)}, [], "lstm")
    best = top_units(seen, 1)
    assert best == [{"feature": "f", "layer": 1, "activation": "cell", "unit": 2, "r": pytest.approx(1.0)}]


@pytest.fixture(scope="module")
def torch_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inspect")
    corpus = folder / "quotes.txt"
    corpus.write_text(TEXT * 40, encoding="utf-8")
    config = build_config("", {"data": {"corpus": str(corpus), "level": "char"},
                               "model": {"cell": "lstm", "layers": 2, "hidden": 12, "embed": 6},
                               "train": {"epochs": 1, "batch_size": 4, "bptt": 16, "seed": 3}})
    train(config, folder / "run", log=lambda *_: None)
    return folder / "run"


def test_inspect_reads_a_torch_run_with_the_numpy_engine(torch_run):
    seen = inspect_run(torch_run, TEXT)
    assert len(seen.layers) == 2 and seen.layers[0]["forget"].shape == (len(TEXT), 12)
    assert set(seen.layers[1]) == {"input", "forget", "output", "cell", "hidden"}
    gates = seen.layers[0]["input"]
    assert gates.min() >= 0 and gates.max() <= 1


def test_cli_inspect_draws_and_lists_units(torch_run, tmp_path, capsys):
    out = tmp_path / "gates.png"
    assert main(["inspect", str(torch_run), "--text", TEXT, "--out", str(out), "--top", "2"]) == 0
    printed = capsys.readouterr().out
    assert out.stat().st_size > 10_000
    assert printed.count("position in line") == 2 and printed.count("inside quotes") == 2
    assert main(["inspect", str(torch_run), "--text", "", "--out", str(out)]) == 2
    assert "--text: no tokens" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "nothing"), "--text", "a", "--out", str(out)]) == 2


def test_the_listed_units_are_drawn_first():
    from rnnlab.scratch.gate_pictures import drawn_units

    assert drawn_units(6, [4, 1, 4, 9], 3) == [4, 1, 0]         # repeats and out-of-range units dropped
    assert drawn_units(6, [], 3) == [0, 1, 2]
    assert drawn_units(6, [5, 4, 3, 2], 2) == [5, 4, 3, 2]     # every listed unit, even past max_units


def test_unit_labels_are_laid_out_apart():
    """The labels of the listed units never come closer than the gap, stay in the panel when they fit
    there, keep the rows' order, and sit on their own rows when those are far enough apart."""
    import random

    from rnnlab.scratch.gate_pictures import label_positions

    rng = random.Random(0)
    for _ in range(300):
        rows = [rng.uniform(0, 47) for _ in range(rng.randint(1, 20))]
        gap = rng.uniform(0.5, 4)
        placed = label_positions(rows, gap, -0.5, 47.5)
        ordered = [placed[i] for i in sorted(range(len(rows)), key=lambda i: rows[i])]
        assert all(b - a >= gap - 1e-9 for a, b in zip(ordered, ordered[1:]))      # apart, in the rows' order
        if gap * (len(rows) - 1) <= 48:
            assert -0.5 <= min(placed) and max(placed) <= 47.5 + 1e-9
    assert label_positions([0, 10, 20], 2, -0.5, 47.5) == [0, 10, 20]             # room enough: on their rows
    assert label_positions([0, 1, 2], 2, -0.5, 47.5) == [0, 2, 4]                   # adjacent rows pushed down
    assert label_positions([47, 46], 2, -0.5, 47.5) == [47.5, 45.5]                 # at the bottom: pushed up
    assert label_positions([], 2, 0, 1) == []


def test_unit_labels_of_a_crowded_panel_do_not_overlap():
    """Ten listed units (one listed twice) on top of 48 rows in a 1.5-inch panel: the rows are 2 points
    apart, the labels 6-point text; the drawn labels' boxes do not overlap and name the listed units."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from rnnlab.scratch.gate_pictures import LABEL_PITCH, LABEL_POINTS, drawn_units, label_rows, label_units, panel_inches

    positions, gap = label_rows(48, 10, 1.5 * 72 * 0.7)
    assert gap * (1.5 * 72 * 0.7) / 48 >= LABEL_PITCH > LABEL_POINTS                  # the gap, in points
    assert all(b - a >= gap - 1e-9 for a, b in zip(positions, positions[1:]))
    assert panel_inches(30) > panel_inches(10) >= 1.5                               # more labels, a taller panel

    listed = drawn_units(64, [5, 9, 5, 30, 2, 7, 11, 40, 63, 1, 3], 0)
    units = drawn_units(64, listed, 48)
    fig, axis = plt.subplots(figsize=(6, panel_inches(len(listed))))
    axis.imshow(np.random.default_rng(0).random((len(units), 30)), aspect="auto")
    fig.tight_layout()
    label_units(axis, units, len(listed), fig.dpi)
    fig.canvas.draw()                                       # the annotations find their places when drawn
    renderer = fig.canvas.get_renderer()
    texts = list(axis.texts)
    assert [t.get_text() for t in texts] == [f"u{u}" for u in listed] and len(texts) == 10
    from matplotlib.text import Text
    boxes = sorted((Text.get_window_extent(t, renderer) for t in texts), key=lambda b: b.y0)   # the text alone
    assert all(lower.y1 <= upper.y0 for lower, upper in zip(boxes, boxes[1:]))
    assert all(box.height > 0 for box in boxes)
    plt.close(fig)

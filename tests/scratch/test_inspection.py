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
    from rnnlab.render.gates import drawn_units

    assert drawn_units(6, [4, 1, 4, 9], 3) == [4, 1, 0]         # repeats and out-of-range units dropped
    assert drawn_units(6, [], 3) == [0, 1, 2]
    assert drawn_units(6, [5, 4, 3, 2], 2) == [5, 4, 3, 2]     # every listed unit, even past max_units

"""The vanishing / exploding experiment: the ordering the seeds describe, on a fixed seed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.scratch.gradients import GradientSetting, adding_problem, gradient_norms, run


@pytest.fixture(scope="module")
def norms():
    setting = GradientSetting(length=80, hidden=24, batch=32, seed=0)
    return {kind: gradient_norms(kind, setting) for kind in ("rnn", "rnn-relu", "lstm", "gru")}


def test_tanh_vanishes_faster_than_the_lstm(norms):
    tanh, lstm = norms["rnn"], norms["lstm"]
    assert tanh[-1] / tanh[0] < 1e-2                       # vanished
    assert tanh[-1] / tanh[0] < (lstm[-1] / lstm[0]) / 100  # two decades below the LSTM's
    assert lstm[-1] / lstm[10] > 0.1                        # the carousel carries from step 10 on


def test_relu_rnn_explodes(norms):
    relu = norms["rnn-relu"]
    assert relu[-1] / relu[0] > 1e3
    assert np.all(np.diff(np.log(relu[5:])) > -0.5)       # grows, give or take a wobble


def test_gru_keeps_its_gradient(norms):
    gru = norms["gru"]
    assert 0.1 < gru[-1] / gru[0] <= 1.0


def test_clipping_caps_the_explosion_but_not_the_vanishing():
    setting = GradientSetting(length=60, hidden=16, batch=16)
    results = run(["rnn", "rnn-relu"], setting, clip=1.0)
    assert results["rnn-relu"]["clipped"].max() <= 1.0 + 1e-9 < results["rnn-relu"]["norms"].max()
    tanh = results["rnn"]
    assert tanh["clipped"][-1] / tanh["clipped"][0] < 1e-2                 # still vanished


def test_adding_problem_marks_one_value_in_each_half():
    xs, targets = adding_problem(20, 5, np.random.default_rng(0))
    assert xs.shape == (20, 5, 2)
    assert (xs[:10, :, 1].sum(0) == 1).all() and (xs[10:, :, 1].sum(0) == 1).all()
    assert np.allclose(targets, (xs[..., 0] * xs[..., 1]).sum(0))


def test_cli_gradients_json_table_and_plot(tmp_path, capsys):
    assert main(["gradients", "--cell", "rnn-relu", "--length", "30", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["cell"] == "rnn-relu" and len(line["norms"]) == 30 and line["norms"][-1] > line["norms"][0]
    out = tmp_path / "plot.png"
    assert main(["gradients", "--length", "30", "--clip", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rnn-relu clipped" in printed and "lstm" in printed and "gru" in printed
    assert out.stat().st_size > 10_000
    assert main(["gradients", "--clip", "-1"]) == 2
    assert "--clip" in capsys.readouterr().err

"""A task added from outside rnnlab's tree: its package and one registry line are all it takes."""

from __future__ import annotations

import json

import pytest

import rnnlab
from rnnlab.cli import main
from rnnlab.tasks import registry
from tests.tasks.backwards.task import BackwardsTask


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(registry.TASKS, "backwards", BackwardsTask())      # the one registry line


def test_a_new_task_trains_loads_and_has_its_own_command(registered, tmp_path, small_text, capsys):
    run = tmp_path / "run"
    assert main(["train", str(small_text), "--task", "backwards", "--hidden", "16", "--layers", "1",
                 "--epochs", "1", "--batch-size", "4", "--bptt", "8", "--threads", "1", "--out", str(run)]) == 0
    assert "epoch 1" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["data"]["task"] == "backwards"
    model = rnnlab.load(run)
    assert isinstance(model, rnnlab.TextModel) and model.task == "backwards"
    text = model.before("cat .", length=12, seed=2)
    assert text.endswith("cat .") and len(text) > len("cat .")
    assert main(["before", str(run), "cat .", "--length", "12", "--seed", "2"]) == 0
    assert capsys.readouterr().out.strip() == text.strip()
    with pytest.raises(rnnlab.VerbNotSupported, match="its verbs: before, evaluate"):
        model.generate("x")
    assert main(["generate", str(run)]) == 2
    assert "rnnlab before" in capsys.readouterr().err
    assert main(["train", str(small_text), "--task", "backwards", "--dropout", "0.1", "--out", str(tmp_path / "x")]) == 2
    assert "--dropout does not apply to a backwards run" in capsys.readouterr().err

"""A task added from outside rnnlab's tree: its package and one catalog line are all it takes."""

from __future__ import annotations

import json

import pytest

import rnnlab
from rnnlab.cli import main
from rnnlab.tasks import catalog
from tests.tasks.backwards.config import BackwardsConfig


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(catalog.CATALOG, "backwards", catalog.Listing(                     # the one line
        "tests.tasks.backwards.task:BackwardsTask", "tests.tasks.backwards.config:BackwardsConfig"))


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


def test_a_new_task_owns_its_settings(registered, tmp_path, small_text, capsys):
    run = tmp_path / "run"
    assert main(["train", str(small_text), "--task", "backwards", "--forwards-too", "--hidden", "16", "--layers", "1",
                 "--epochs", "1", "--batch-size", "4", "--bptt", "8", "--threads", "1", "--out", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["backwards"] == {"forwards_too": True} and "forwards_too" not in saved["data"]
    assert BackwardsConfig.of(rnnlab.load(run).config).forwards_too is True
    with pytest.raises(SystemExit):
        main(["train", "--task", "backwards", "--help"])
    assert "--forwards-too" in capsys.readouterr().out
    assert main(["train", str(small_text), "--forwards-too", "--out", str(tmp_path / "lm")]) == 2
    assert "--forwards-too does not apply to a lm run (it is a backwards option)" in capsys.readouterr().err
    assert not (tmp_path / "lm").exists()

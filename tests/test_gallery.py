"""The shipped models: each scores on its test split what its card says, and answers with its verb,
without writing into its folder; `@name` errors are one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import rnnlab
from rnnlab import gallery
from rnnlab.cli import main
from rnnlab.errors import RnnlabError

CARDS = gallery.cards()                  # the distribution is installed for the tests (pip install ./models)
NAMES = sorted(CARDS)
NUMERIC = ("perplexity", "nll", "exact_match", "bleu")
SHIPPED = {"shakespeare", "python", "bach", "nottingham", "dates", "enja", "holmes-ja"}


def test_the_gallery_is_installed_with_its_models():
    assert SHIPPED <= set(NAMES)
    assert rnnlab.models().keys() == CARDS.keys()
    total = sum((gallery.resolve("@" + name) / gallery.WEIGHTS).stat().st_size for name in NAMES)
    assert total <= 25e6


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def data_present(card: dict) -> bool:
    root = os.environ.get("RNNLAB_DATA")
    return all(root and (Path(root) / relpath).exists() for relpath in card["data"]["files"])


@pytest.mark.parametrize("name", NAMES)
def test_test_metrics_match_the_card(name):
    card = CARDS[name]
    if not data_present(card):
        pytest.skip(f"{card['data']['corpus']} is not in RNNLAB_DATA")
    evaluation = card["evaluation"]
    folder = gallery.resolve("@" + name)
    before = snapshot(folder)
    model = rnnlab.load("@" + name, device="cpu")
    data = os.path.expandvars(evaluation["data"]) if evaluation.get("data") else None
    metrics = model.evaluate(evaluation["split"], data=data, batch_size=evaluation["batch_size"])
    for key in NUMERIC:
        if key in card["metrics"]:
            assert metrics[key] == pytest.approx(card["metrics"][key], rel=0.01), key
    assert snapshot(folder) == before                      # opened read-only: no lock, mark or metrics


def use(model, verb: str):
    if verb == "generate":
        return model.generate(length=40, seed=1)
    if verb == "compose":
        return model.compose(seconds=3, seed=1).notes
    return model.translate("september 27, 1994" if model.config.data.corpus == "date" else "Where is the station?")


@pytest.mark.parametrize("name", NAMES)
def test_each_model_answers_with_its_verb(name):
    card = CARDS[name]
    model = rnnlab.load("@" + name, device="cpu")
    assert card["verb"] in model.verbs
    assert use(model, card["verb"])
    assert all(p.dtype == torch.float32 for p in model._opened.model.parameters())     # fp16 files read as fp32


def test_the_command_line_takes_a_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "@python", "--prime", "def ", "--length", "30", "--seed", "1"]) == 0
    assert capsys.readouterr().out.startswith("def ")
    assert main(["models"]) == 0
    listed = capsys.readouterr().out
    assert all(f"@{name}" in listed for name in NAMES)


def test_unknown_name_is_one_line(capsys):
    assert main(["generate", "@no-such-model"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "@python" in err


def test_without_the_distribution_the_name_says_how_to_install(monkeypatch):
    monkeypatch.setattr(gallery, "find_spec", lambda name: None)
    with pytest.raises(RnnlabError, match="pip install rnnlab-models"):
        rnnlab.load("@python")


def test_a_name_cannot_leave_the_gallery():
    with pytest.raises(RnnlabError, match="no shipped model"):
        gallery.resolve("@../rnnlab_models")


def test_training_into_a_shipped_model_is_refused(tmp_path):
    folder = gallery.resolve("@dates")
    before = snapshot(folder)
    with pytest.raises(RnnlabError, match="read-only"):
        rnnlab.train(out="@dates", resume=True)
    with pytest.raises(RnnlabError, match="read-only"):
        rnnlab.train("date", "@dates", max_minutes=0.01)
    assert snapshot(folder) == before


def test_rebuild_wants_a_new_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine\n")
    assert main(["models", "rebuild", "dates", "--out", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["models", "rebuild", "--out", str(tmp_path / "new")]) == 2

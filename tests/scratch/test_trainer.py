"""`rnnlab train --engine numpy`: the run directory loads in both engines to the same perplexity."""

from __future__ import annotations

import json

import pytest

from rnnlab.cli import main
from rnnlab.config import build_config
from rnnlab.errors import RnnlabError
from rnnlab.scratch.adapter import open_numpy_run
from rnnlab.tasks.language_model.evaluate import evaluate_run
from rnnlab.tasks.registry import TASKS
from rnnlab.tasks.registry import open_run
from rnnlab.tasks.registry import train
from rnnlab.train.callbacks import StepHook

QUIET = lambda *_: None   # noqa: E731


class Killed(Exception):
    pass


def config_for(corpus, engine="numpy", cell="lstm", model=None, **train_settings):
    settings = {"epochs": 2, "batch_size": 4, "bptt": 8, "checkpoint_every": 5, "seed": 7, "lr": 0.01,
                "engine": engine, **train_settings}
    return build_config("", {"data": {"corpus": str(corpus), "level": "word"},
                             "model": {"cell": cell, "layers": 2, "hidden": 16, "embed": 8, "dropout": 0.2,
                                       **(model or {})},
                             "train": settings})


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_numpy_run_loads_in_torch_with_the_same_perplexity(tmp_path, small_text, cell):
    records = train(config_for(small_text, cell=cell), tmp_path / "run", log=QUIET)
    assert len(records) == 2 and records[-1]["valid_loss"] < records[0]["valid_loss"]
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text())["train"]["engine"] == "numpy"
    assert (run / "vocab.json").exists() and (run / "metrics.png").exists()
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"best.pt", "last.pt"}
    open_run(run)                                                # PyTorch-layout state dict, strict load
    by_torch = evaluate_run(open_run(run), "valid", batch_size=3)
    by_numpy = evaluate_run(open_numpy_run(TASKS["lm"], run), "valid", batch_size=3)
    assert by_numpy["tokens"] == by_torch["tokens"]
    assert by_numpy["perplexity"] == pytest.approx(by_torch["perplexity"], rel=1e-5)
    assert records[-1]["valid_ppl"] == pytest.approx(evaluate_run(open_numpy_run(TASKS["lm"], run, "last"), "valid",
                                                                  batch_size=10)["perplexity"], rel=1e-5)


def test_torch_run_loads_in_numpy_with_the_same_perplexity(tmp_path, small_text):
    train(config_for(small_text, engine="torch", cell="rnn", epochs=1, model={"tie_weights": True}),
          tmp_path / "run", log=QUIET)
    by_torch = evaluate_run(open_run(tmp_path / "run"), "test", batch_size=2)
    by_numpy = evaluate_run(open_numpy_run(TASKS["lm"], tmp_path / "run"), "test", batch_size=2)
    assert by_numpy["perplexity"] == pytest.approx(by_torch["perplexity"], rel=1e-5)


def test_both_engines_start_from_the_same_weights(tmp_path, small_text):
    """Zero learning rate: the first validation loss is the initial model's, and it agrees."""
    torch_first = train(config_for(small_text, engine="torch", epochs=1, lr=1e-12, optimizer="sgd"),
                        tmp_path / "t", log=QUIET)[0]
    numpy_first = train(config_for(small_text, epochs=1, lr=1e-12, optimizer="sgd"), tmp_path / "n", log=QUIET)[0]
    assert numpy_first["valid_loss"] == pytest.approx(torch_first["valid_loss"], rel=1e-5)


def test_killed_and_resumed_numpy_run_matches_uninterrupted(tmp_path, small_text):
    def stop(trainer, info):
        if info["step"] == 13:
            raise Killed
    kill_at_13 = StepHook(stop)

    settings = {"epochs": 3, "optimizer": "adam", "schedule": "plateau"}
    whole = train(config_for(small_text, **settings), tmp_path / "whole", log=QUIET)
    with pytest.raises(Killed):
        train(config_for(small_text, **settings), tmp_path / "split", callbacks=[kill_at_13], log=QUIET)
    resumed = train(None, tmp_path / "split", resume=True, log=QUIET)
    assert len(whole) == len(resumed) == 3
    for a, b in zip(whole, resumed):
        for key in ("epoch", "step", "train_loss", "valid_loss", "lr"):
            assert a[key] == pytest.approx(b[key], rel=1e-6), key


def test_unsupported_options_are_named_together(tmp_path, small_text):
    config = config_for(small_text, model={"weight_drop": 0.5}, activation_reg=2.0)
    with pytest.raises(RnnlabError, match=r"--weight-drop 0.5 is not in the NumPy engine[\s\S]*--activation-reg"):
        train(config, tmp_path / "run", log=QUIET)
    assert not (tmp_path / "run").exists()


def test_cli_engine_flag(tmp_path, small_text, capsys):
    run = tmp_path / "cli"
    assert main(["train", str(small_text), "--level", "word", "--engine", "numpy", "--cell", "rnn",
                 "--layers", "1", "--hidden", "8", "--epochs", "1", "--batch-size", "4", "--bptt", "8",
                 "--out", str(run)]) == 0
    assert main(["evaluate", str(run), "--engine", "numpy", "--json"]) == 0
    numpy_line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["evaluate", str(run), "--json"]) == 0
    torch_line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert numpy_line["perplexity"] == pytest.approx(torch_line["perplexity"], rel=1e-5)
    assert main(["generate", str(run), "--length", "5", "--seed", "1"]) == 0
    assert main(["train", str(small_text), "--engine", "numpy", "--weight-drop", "0.3",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "--weight-drop 0.3 is not in the NumPy engine" in capsys.readouterr().err


def test_a_run_with_an_unknown_cell_type_is_refused_by_name(tmp_path, small_text, capsys):
    run = tmp_path / "run"
    train(config_for(small_text, epochs=1), run, log=QUIET)
    config = json.loads((run / "config.json").read_text())
    config["model"]["cell"] = "mgu"
    (run / "config.json").write_text(json.dumps(config))
    assert main(["evaluate", str(run), "--engine", "numpy"]) == 2
    assert "config.json: unknown cell type 'mgu'" in capsys.readouterr().err

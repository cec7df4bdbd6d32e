"""A run killed mid-epoch and resumed ends with the same metrics as one never interrupted."""

import pytest

from rnnlab.config import build_config
from rnnlab.tasks.registry import train
from rnnlab.train.callbacks import StepHook


class Killed(Exception):
    pass


def kill_at(step):
    def stop(trainer, info):
        if info["step"] == step:
            raise Killed
    return StepHook(stop)


def config_for(corpus, **train):
    settings = {"epochs": 3, "batch_size": 4, "bptt": 8, "checkpoint_every": 5, "seed": 7, **train}
    return build_config("", {"data": {"corpus": str(corpus), "level": "word"},
                             "model": {"cell": "lstm", "layers": 2, "hidden": 16, "dropout": 0.3},
                             "train": settings})


@pytest.mark.parametrize("kill_step", [13, 22])
def test_killed_and_resumed_run_matches_uninterrupted(tmp_path, small_text, kill_step):
    quiet = lambda *_: None
    whole = train(config_for(small_text), tmp_path / "whole", log=quiet)
    with pytest.raises(Killed):
        train(config_for(small_text), tmp_path / "split", callbacks=[kill_at(kill_step)], log=quiet)
    resumed = train(None, tmp_path / "split", resume=True, log=quiet)
    assert len(whole) == len(resumed) == 3
    for a, b in zip(whole, resumed):
        for key in ("epoch", "step", "train_loss", "valid_loss", "lr"):
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9), key


def test_variable_bptt_and_sgd_schedule_resume_too(tmp_path, small_text):
    quiet = lambda *_: None
    extra = {"variable_bptt": True, "optimizer": "sgd", "lr": 1.0, "schedule": "step", "decay_start": 1}
    whole = train(config_for(small_text, **extra), tmp_path / "whole", log=quiet)
    with pytest.raises(Killed):
        train(config_for(small_text, **extra), tmp_path / "split", callbacks=[kill_at(9)], log=quiet)
    resumed = train(None, tmp_path / "split", resume=True, log=quiet)
    assert [r["valid_loss"] for r in whole] == pytest.approx([r["valid_loss"] for r in resumed], rel=1e-6)
    assert whole[-1]["lr"] == pytest.approx(0.25)


def test_training_improves_on_a_learnable_text(tmp_path, small_text):
    records = train(config_for(small_text, epochs=4, lr=0.01), tmp_path / "run", log=lambda *_: None)
    assert records[-1]["valid_loss"] < records[0]["valid_loss"]
    assert (tmp_path / "run" / "metrics.png").stat().st_size > 1000


def test_finished_run_resumed_with_more_epochs_trains_on(tmp_path, small_text):
    quiet = lambda *_: None
    train(config_for(small_text, epochs=1), tmp_path / "run", log=quiet)
    records = train(None, tmp_path / "run", resume=True, overrides={"train": {"epochs": 2}}, log=quiet)
    assert [r["epoch"] for r in records] == [1, 2]

"""The one training loop: callbacks hear every step and epoch, TensorBoard gets the scalars,
early stopping needs real progress, the time budget counts validation."""

from __future__ import annotations

import math

import pytest
import torch

from rnnlab.errors import RnnlabError

from rnnlab.config import TrainConfig, build_config
from rnnlab.runs import RunDir
from rnnlab.tasks.registry import train
from rnnlab.train.callbacks import Callback
from rnnlab.train.distributed import Placement
from rnnlab.train.loop import StepResult, Trainer


def config_for(corpus, **train_options):
    return build_config("", {"data": {"corpus": str(corpus), "level": "word"},
                             "model": {"hidden": 8, "layers": 1},
                             "train": {"epochs": 2, "batch_size": 4, "bptt": 8, **train_options}})


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def epoch_started(self, trainer, batches, done):
        self.events.append(("epoch", batches, done))

    def step_done(self, trainer, info):
        self.events.append(("step", info["step"]))

    def epoch_ended(self, trainer, record):
        self.events.append(("end", record["epoch"]))


def test_callbacks_hear_every_step_and_epoch(tmp_path, small_text):
    recorder = Recorder()
    records = train(config_for(small_text), tmp_path / "run", callbacks=[recorder], log=lambda line: None)
    starts = [e for e in recorder.events if e[0] == "epoch"]
    steps = [e[1] for e in recorder.events if e[0] == "step"]
    assert len(starts) == 2 and starts[0][2] == 0
    assert steps == list(range(1, 2 * starts[0][1] + 1))             # every optimiser step, in order
    assert [e[1] for e in recorder.events if e[0] == "end"] == [1, 2] == [r["epoch"] for r in records]


def test_tensorboard_writes_the_losses_and_the_epoch_records(tmp_path, small_text):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    records = train(config_for(small_text, tensorboard=True), tmp_path / "run", log=lambda line: None)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train/loss", "epoch/valid_loss", "epoch/valid_ppl", "epoch/lr"} <= set(tags)
    valid = [e.value for e in events.Scalars("epoch/valid_loss")]
    assert valid == pytest.approx([r["valid_loss"] for r in records], rel=1e-6)
    assert len(events.Scalars("train/loss")) == records[-1]["step"]


class Flat:
    """An objective whose validation loss creeps down by 1e-9 an epoch: no real progress."""

    unit, chooses_best, curves = "nll", True, [("valid_loss", "NLL", 1.0)]

    def __init__(self):
        self.calls = 0

    def batches(self, epoch, position):
        yield 1, None

    def count(self, epoch, position):
        return 1, position

    def step(self, model, batch, carry, step):
        loss = (model.weight ** 2).sum()
        return StepResult(loss, loss.item(), 1)

    def validate(self, model):
        self.calls += 1
        return {"valid_loss": 1.0 - 1e-9 * self.calls}

    def train_fields(self, progress):
        return {"train_loss": progress.epoch_nll}

    def describe(self, record):
        return ""


def test_early_stopping_needs_more_than_a_rounding_error(tmp_path):
    run = RunDir(tmp_path / "run")
    run.checkpoints.mkdir(parents=True)
    config = TrainConfig(epochs=50, early_stop=3, schedule="none", lr=1e-3)
    trainer = Trainer(torch.nn.Linear(2, 1), Flat(), config, Placement(0, 1, torch.device("cpu")), run)
    trainer.fit()
    assert trainer.progress.epoch == 5 and trainer.progress.finished      # epoch 1 counts, then 3 bad ones
    assert run.best_checkpoint.exists()                                    # the best is still kept
    assert math.isfinite(trainer.progress.best_valid)


def test_bf16_training_keeps_fp32_weights_and_learns_like_fp32(tmp_path, small_text):
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():          # a CPU without bf16 refuses it, making nothing
        with pytest.raises(RnnlabError, match="no bfloat16"):
            train(config_for(small_text, epochs=3, bf16=True), tmp_path / "bf16", log=lambda line: None)
        assert not (tmp_path / "bf16").exists()
        return
    fp32 = train(config_for(small_text, epochs=3), tmp_path / "fp32", log=lambda line: None)
    bf16 = train(config_for(small_text, epochs=3, bf16=True), tmp_path / "bf16", log=lambda line: None)
    weights = torch.load(RunDir(tmp_path / "bf16").last_checkpoint, weights_only=False)["model"]
    assert all(w.dtype == torch.float32 for w in weights.values() if w.is_floating_point())
    assert bf16[-1]["valid_loss"] < bf16[0]["valid_loss"]                        # it learns
    assert bf16[-1]["train_loss"] != fp32[-1]["train_loss"]                      # under bf16 products
    assert bf16[-1]["valid_loss"] == pytest.approx(fp32[-1]["valid_loss"], rel=0.05)

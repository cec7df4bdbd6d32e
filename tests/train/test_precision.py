"""Mixed precision: the resolution table, the refusals, fp16's loss scaler through the loop and
through a checkpoint, and what the run records."""

from __future__ import annotations

import json

import pytest
import torch

from rnnlab.config import RunConfig, TrainConfig, build_config
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.tasks.registry import train
from rnnlab.train.callbacks import StepHook
from rnnlab.train.distributed import Placement
from rnnlab.train.loop import STEPS_PER_SYNC, Trainer
from rnnlab.train.precision import choose_precision, grad_scaler, resolve_precision

from tests.train.test_loop import Flat


def config_for(corpus, **train_options):
    return build_config("", {"data": {"corpus": str(corpus), "level": "word"},
                             "model": {"hidden": 8, "layers": 1},
                             "train": {"epochs": 1, "batch_size": 4, "bptt": 8, "device": "cpu", **train_options}})


@pytest.mark.parametrize("requested, device, has_bf16, chosen", [
    ("auto", "cuda", True, "bf16"), ("auto", "cuda", False, "fp16"), ("auto", "cpu", True, "fp32"),
    ("auto", "cpu", False, "fp32"), ("fp32", "cuda", False, "fp32"), ("fp16", "cuda", True, "fp16"),
    ("bf16", "cuda", True, "bf16"), ("bf16", "cpu", True, "bf16")])
def test_the_precision_table(requested, device, has_bf16, chosen):
    assert choose_precision(requested, device, has_bf16) == chosen


@pytest.mark.parametrize("requested, device, has_bf16, refusal", [
    ("fp16", "cpu", True, "needs a CUDA GPU"), ("bf16", "cuda", False, "T4 has no bfloat16"),
    ("bf16", "cpu", False, "no bfloat16 instructions")])
def test_what_cannot_run_is_refused_in_one_line(requested, device, has_bf16, refusal):
    with pytest.raises(RnnlabError, match=refusal) as caught:
        choose_precision(requested, device, has_bf16, "Tesla T4")
    assert "\n" not in str(caught.value)


def test_fp16_on_a_cpu_is_refused_before_the_run_is_made(tmp_path, small_text):
    with pytest.raises(RnnlabError, match="fp16 needs a CUDA GPU"):
        train(config_for(small_text, precision="fp16"), tmp_path / "run", log=lambda line: None)
    assert not (tmp_path / "run").exists()


def test_bf16_is_an_alias_and_old_configs_load():
    assert TrainConfig(bf16=True).requested_precision == "bf16"
    old = RunConfig.from_dict({"train": {"bf16": True}, "seq2seq": {"bf16": False}})
    assert old.train.precision == "fp32"
    assert RunConfig.from_dict({"train": {"epochs": 3}}).train.requested_precision == "fp32"
    with pytest.raises(RnnlabError, match="cannot go with --precision fp16"):
        build_config("", {"train": {"bf16": True, "precision": "fp16"}})
    with pytest.raises(RnnlabError, match="NumPy engine"):
        build_config("", {"train": {"engine": "numpy", "precision": "fp16"}})


def test_auto_on_a_cpu_trains_in_fp32_and_the_run_records_it(tmp_path, small_text):
    lines = []
    records = train(config_for(small_text, precision="auto"), tmp_path / "run", log=lines.append)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["train"]["precision"] == "fp32" == resolve_precision("auto", torch.device("cpu"))
    assert records[0]["precision"] == "fp32" and records[0]["compiled"] is False
    assert not any("training in" in line for line in lines)             # fp32 needs no note


def trainer_for(tmp_path, **options) -> Trainer:
    run = RunDir(tmp_path / "run")
    run.checkpoints.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = TrainConfig(epochs=3, schedule="none", lr=1e-2, clip=1.0, **options)
    return Trainer(torch.nn.Linear(2, 1), Flat(), config, Placement(0, 1, torch.device("cpu")), run)


def test_a_scaler_scales_unscales_for_clipping_and_round_trips_through_resume(tmp_path):
    trainer = trainer_for(tmp_path)
    assert trainer.scaler.state_dict() == {}                           # fp32: a pass-through, nothing saved
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=1)     # fp16's, on a CPU
    plain = trainer_for(tmp_path / "plain")
    trainer.fit()
    plain.fit()
    # the scaled gradients were unscaled before clipping and stepping: the same weights as unscaled training
    assert torch.allclose(trainer.raw_model.weight, plain.raw_model.weight)
    assert trainer.scaler.get_scale() == 256.0 * 2 ** 3                 # grew once a step
    resumed = trainer_for(tmp_path)
    resumed.scaler = torch.amp.GradScaler("cpu", init_scale=1.0)
    resumed.resume()
    assert resumed.scaler.state_dict() == trainer.scaler.state_dict()
    disabled = trainer_for(tmp_path)                                   # an fp32 run ignores the saved scaler
    disabled.resume()
    assert not disabled.scaler.is_enabled()


def test_a_disabled_scaler_changes_nothing_and_old_checkpoints_resume(tmp_path):
    scaler = grad_scaler("fp32", torch.device("cpu"))
    loss = torch.tensor(2.0, requires_grad=True)
    assert scaler.scale(loss) is loss and scaler.state_dict() == {}
    trainer = trainer_for(tmp_path)
    trainer.fit()
    payload = torch.load(trainer.run.last_checkpoint, weights_only=True)
    del payload["scaler"]                                              # a checkpoint of an earlier version
    torch.save(payload, trainer.run.last_checkpoint)
    trainer_for(tmp_path).resume()


def test_losses_read_back_every_few_steps_give_the_same_run(tmp_path, small_text, monkeypatch):
    """As on a GPU: losses kept on the device and read in batches; every step still heard, in order."""
    heard = {}
    for every in (1, 4):
        monkeypatch.setitem(STEPS_PER_SYNC, "cpu", every)
        steps = []
        records = train(config_for(small_text, epochs=2, checkpoint_every=3), tmp_path / str(every),
                        callbacks=[StepHook(lambda trainer, info: steps.append((info["step"], info["loss"])))],
                        log=lambda line: None)
        heard[every] = steps, records
    (steps_1, records_1), (steps_4, records_4) = heard[1], heard[4]
    assert steps_1 == steps_4 and [s for s, _ in steps_1] == list(range(1, len(steps_1) + 1))
    assert [r["train_loss"] for r in records_1] == [r["train_loss"] for r in records_4]

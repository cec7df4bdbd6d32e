"""`rnnlab train --engine numpy`: rnnlab.train's stateful truncated-BPTT loop driving the NumPy model.

It writes the same run directory as the PyTorch engine: config.json, vocab.json, metrics.jsonl,
metrics.png and checkpoints/{best,last}.pt whose "model" is the PyTorch-layout state dict, so
`rnnlab evaluate` and `rnnlab generate` load it unchanged. The weights start from the PyTorch
model's initialisation with the same seed, so both engines begin at the same point.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from rnnlab.config import RunConfig, TrainConfig
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.scratch.adapter import LMAdapter
from rnnlab.scratch.model import LanguageModel
from rnnlab.scratch.optim import SGD, Adam, clip_by_norm
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.train.distributed import Placement
from rnnlab.train.callbacks import EpochLog, MetricsFile
from rnnlab.train.loop import Progress, StepResult, Trainer
from rnnlab.tasks.language_model.model import build_language_model


def unsupported_options(config: RunConfig) -> list[str]:
    """What the PyTorch engine offers and the NumPy engine does not, one line per option set."""
    m, t = config.model, config.train
    problems = []
    for flag, value in (("--weight-drop", m.weight_drop), ("--dropout-words", m.dropout_words),
                        ("--activation-reg", t.activation_reg), ("--temporal-reg", t.temporal_reg)):
        if value:
            problems.append(f"{flag} {value} is not in the NumPy engine (set it to 0 or use --engine torch)")
    if m.dropout_site != "between":
        problems.append(f"--dropout-site {m.dropout_site} is not in the NumPy engine")
    if t.device not in ("auto", "cpu"):
        problems.append(f"--device {t.device}: the NumPy engine runs on the CPU")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        problems.append("torchrun: the NumPy engine trains in one process")
    return problems


def numpy_model_for(config: RunConfig, vocab_size: int) -> LanguageModel:
    """The NumPy model, starting from the PyTorch engine's initial weights for the same seed."""
    torch.manual_seed(config.train.seed)
    reference = build_language_model(config, vocab_size)
    model = LanguageModel(config.model, vocab_size, np.float32, seed=config.train.seed)
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return model


def make_optimizer(config: TrainConfig):
    if config.optimizer == "sgd":
        return SGD(config.lr, config.momentum, config.weight_decay)
    return Adam(config.lr, weight_decay=config.weight_decay, decoupled=config.optimizer == "adamw")


class Schedule:
    """none, step (decay every epoch from `decay_start`) or plateau (ReduceLROnPlateau's rule)."""

    def __init__(self, optimizer, config: TrainConfig):
        self.optimizer, self.config = optimizer, config
        self.best, self.bad_epochs = math.inf, 0

    def after_epoch(self, epoch: int, valid_loss: float) -> None:
        c = self.config
        if c.schedule == "step" and epoch >= c.decay_start:
            self.optimizer.lr *= c.lr_decay
        elif c.schedule == "plateau":
            if valid_loss < self.best * (1 - 1e-4):          # torch's default relative threshold
                self.best, self.bad_epochs = valid_loss, 0
            else:
                self.bad_epochs += 1
            if self.bad_epochs > c.patience:
                self.optimizer.lr *= c.lr_decay
                self.bad_epochs = 0

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs, "lr": self.optimizer.lr}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs, self.optimizer.lr = state["best"], state["bad_epochs"], state["lr"]


def to_torch_state(state: list[tuple]) -> list:
    """Carried state in rnnlab.models' format: per layer (1, batch, hidden), or (h, c) for the LSTM."""
    layers = [tuple(torch.from_numpy(np.ascontiguousarray(s[None])) for s in layer) for layer in state]
    return [layer if len(layer) == 2 else layer[0] for layer in layers]


def from_torch_state(state: list) -> list[tuple]:
    return [tuple(t[0].numpy() for t in layer) if isinstance(layer, (tuple, list)) else (layer[0].numpy(),)
            for layer in state]


class NumpyTrainer(Trainer):
    """The one training loop (schedule, evaluation, early stop, time budget, checkpoints' timing)
    with the NumPy engine's optimiser, train step and checkpoint contents. `model` is an LMAdapter;
    the carried state is `self.carry`, as in the Trainer."""

    def __init__(self, model: LMAdapter, objective, config: TrainConfig, placement: Placement, run: RunDir,
                 callbacks=()):
        self.raw_model = self.model = model
        self.objective, self.config, self.placement, self.run = objective, config, placement, run
        self.callbacks = list(callbacks)
        self.net: LanguageModel = model.model
        self.optimizer = make_optimizer(config)
        self.schedule = Schedule(self.optimizer, config)
        self.progress = Progress()
        self.carry = None

    def train_step(self, batch) -> StepResult:
        """Forward, backward, clip, update, on the window (time, batch) after the carried state."""
        c, net = self.config, self.net
        inputs, targets = batch
        net.state = self.carry
        nll = net.forward(inputs.numpy(), targets.numpy(), training=True)
        net.backward(1.0 / targets.numel())                           # gradients of the mean NLL
        if c.clip:
            clip_by_norm(net.grads, c.clip)
        base = self.optimizer.lr
        if c.variable_bptt:                                           # AWD: lr follows window length
            self.optimizer.lr = base * inputs.size(0) / c.bptt
        self.optimizer.update(net.params, net.grads)
        self.optimizer.lr = base
        self.carry = net.state
        self.progress.step += 1
        return StepResult(None, nll, targets.numel(), net.state)

    # ---- checkpoints: the PyTorch engine's layout, the model as a PyTorch-layout state dict ----
    def save(self, path) -> None:
        tensors = lambda arrays: {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}   # noqa: E731
        save_checkpoint(path, {
            "engine": "numpy", "model": tensors(self.net.state_dict()),
            "optimizer": {"lr": self.optimizer.lr, "steps": getattr(self.optimizer, "steps", 0),
                          "state": {name: tensors(moments) for name, moments in self.optimizer.state.items()}},
            "schedule": self.schedule.state_dict(), "progress": dataclasses.asdict(self.progress),
            "rng": {"numpy": self.net.rng.bit_generator.state},
            "hidden_by_rank": [to_torch_state(self.carry) if self.carry is not None else None]})

    def resume(self) -> None:
        payload = load_checkpoint(self.run.last_checkpoint)
        if payload.get("engine") != "numpy":
            raise RnnlabError(f"{self.run.last_checkpoint}: written by the PyTorch engine; resume with --engine torch")
        self.net.load_state_dict({k: v.numpy() for k, v in payload["model"].items()}, str(self.run.last_checkpoint))
        saved = payload["optimizer"]
        self.optimizer.lr = saved["lr"]
        if hasattr(self.optimizer, "steps"):
            self.optimizer.steps = saved["steps"]
        self.optimizer.state = {name: {k: v.numpy().copy() for k, v in moments.items()}
                                for name, moments in saved["state"].items()}
        self.schedule.load_state_dict(payload["schedule"])
        self.progress = Progress.restore(payload["progress"])
        self.net.rng.bit_generator.state = payload["rng"]["numpy"]
        hidden = payload["hidden_by_rank"][0]
        self.carry = from_torch_state(hidden) if hidden is not None and self.progress.position else None
        self.run.truncate_metrics(self.progress.metrics_count)


def train_numpy(task, config: RunConfig, run: RunDir, resume: bool, callbacks=(), log=print) -> list[dict]:
    """Train (or resume) a text run of `task` with the NumPy engine; returns the metrics records."""
    problems = unsupported_options(config)
    if problems:
        raise RnnlabError("--engine numpy: " + ("; ".join(problems) if len(problems) == 1 else
                                                 "\n  " + "\n  ".join(problems)))
    placement = Placement(0, 1, torch.device("cpu"))
    prepared = task.prepare(config, run, resume, placement)
    if not resume:
        run.create(config)
        prepared.write(run.path)
    model = numpy_model_for(config, prepared.output_size)
    reporting = [MetricsFile(), EpochLog(log), *callbacks]
    trainer = NumpyTrainer(LMAdapter(model), prepared.objective(model), config.train, placement, run, reporting)
    if resume:
        trainer.resume()
    params = sum(p.size for p in model.params.values())
    threads = config.train.threads or "default"
    log(f"{config.data.corpus}: {prepared.summary}; {config.model.layers}x{config.model.hidden} {config.model.cell}, "
        f"{params:,} parameters; NumPy engine (float32, CPU, BLAS threads: {threads}); run {run.path}"
        + (f" (resuming at epoch {trainer.progress.epoch})" if resume else ""))
    with threadpool_limits(config.train.threads or None):       # --threads: NumPy's BLAS threads
        return trainer.fit()

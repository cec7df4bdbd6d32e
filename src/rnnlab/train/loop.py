"""The one training loop: epochs of batches, an optimiser step each, validation, checkpoints.

What a kind of run learns reaches the loop as an `Objective` (its batches, its loss, its
validation); what is reported goes out through callbacks (progress bar, metrics file and plot,
TensorBoard, log lines). The loop owns what decides what happens next: clipping, the schedule,
early stopping, the time budget and checkpoints. A checkpoint holds all of it (weights,
optimiser, schedule, fp16's loss scaler, RNG, position in the epoch, carried state, running sums),
so a killed run resumes to the same numbers. On a GPU the losses stay there: they are read back
every few steps in one transfer, and the callbacks hear of those steps then.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

import torch
from torch.nn.parallel import DistributedDataParallel

from rnnlab.models.averaging import AveragedWeights, averaged_weights
from rnnlab.config import TrainConfig
from rnnlab.models.recurrent import detach_state, map_state
from rnnlab.runs import RunDir
from rnnlab.train.callbacks import Callback
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.train.distributed import Placement, broadcast_flag, gather_objects
from rnnlab.train.metrics import Curve
from rnnlab.train.optim import Schedule, make_optimizer
from rnnlab.train.precision import autocast, grad_scaler, resolve_precision
from rnnlab.train.threads import timed, tuner_for


EARLY_STOP_MARGIN = 1e-4        # relative gain an epoch must make to count as progress
# Steps between reading the losses back from the device (each read waits for the GPU to finish);
# on a CPU a read costs nothing, so every step is reported as it ends.
STEPS_PER_SYNC = {"cpu": 1, "cuda": 16}


@dataclass
class StepResult:
    """One batch's loss (to minimise) and what the epoch's record sums up."""

    loss: torch.Tensor
    nll: float | torch.Tensor     # summed over the batch's scored tokens (a tensor: read back later)
    tokens: int
    carry: Any = None             # recurrent state handed to the next batch (streams only)
    extra: dict[str, float] = field(default_factory=dict)    # other running sums (VHRED's KL)
    lr_scale: float = 1.0         # AWD: a shorter window takes a smaller step


class Objective(Protocol):
    """What a kind of run learns. `batches` walks one epoch from a saved position; `validate`
    returns the record's validation fields, `valid_loss` among them."""

    unit: str                     # perplexity, bpc or nll: how the progress bar shows the loss
    chooses_best: bool            # False when validation reads test data: no best.pt, no early stop
    curves: list[Curve]           # the validation curves metrics.png draws beside the losses

    def batches(self, epoch: int, position: int) -> Iterator[tuple[int, Any]]: ...   # (position after, batch)
    def count(self, epoch: int, position: int) -> tuple[int, int]: ...               # (batches, done)
    def step(self, model, batch, carry, step: int) -> StepResult: ...
    def validate(self, model) -> dict: ...
    def train_fields(self, progress: "Progress") -> dict: ...                        # the epoch's train_* fields
    def describe(self, record: dict) -> str: ...                                     # the epoch's log line


@dataclass
class Progress:
    """Where the run stands; saved in every checkpoint."""

    epoch: int = 1
    position: int = 0            # where the epoch's next batch starts (a batch or token index)
    step: int = 0                # optimiser steps so far
    epoch_nll: float = 0.0       # running sums for this epoch's train loss
    epoch_tokens: int = 0
    epoch_extra: dict = field(default_factory=dict)
    best_valid: float = math.inf
    bad_epochs: int = 0
    elapsed: float = 0.0         # seconds of training, across resumes
    metrics_count: int = 0       # metrics.jsonl records belonging to this state
    finished: bool = False

    @classmethod
    def restore(cls, saved: dict) -> "Progress":
        """From a checkpoint, including those of the dialogue loop of earlier versions."""
        renamed = {"nll": "epoch_nll", "tokens": "epoch_tokens", "best": "best_valid"}
        values = {renamed.get(k, k): v for k, v in saved.items()}
        if "kl" in values:
            values["epoch_extra"] = {"kl": values.pop("kl")}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def next_epoch(self) -> None:
        self.epoch, self.position, self.epoch_nll, self.epoch_tokens, self.epoch_extra = \
            self.epoch + 1, 0, 0.0, 0, {}


class Trainer:
    """Runs an objective's epochs on a model until the epochs, early stopping or the time budget end."""

    # What a subclass with a step of its own (the NumPy engine's) keeps unless it says otherwise.
    precision, scaler, sync_every, compiled, compiling = "fp32", None, 1, False, False

    def __init__(self, model: torch.nn.Module, objective: Objective, config: TrainConfig, placement: Placement,
                 run: RunDir, callbacks: list[Callback] = ()):
        self.raw_model, self.model = model, model
        self.objective, self.config, self.placement, self.run = objective, config, placement, run
        self.callbacks = list(callbacks)
        if placement.distributed:
            ids = [placement.device.index] if placement.device.type == "cuda" else None
            self.model = DistributedDataParallel(model, device_ids=ids)
        self.optimizer = make_optimizer(model.parameters(), config)
        self.schedule = Schedule(self.optimizer, config)
        self.precision = resolve_precision(config.requested_precision, placement.device)
        self.scaler = grad_scaler(self.precision, placement.device)
        self.eager_model, self.compiled = self.model, bool(config.compile)
        self.compiling = self.compiled                   # until the first step has built it
        if config.compile:
            self.model = torch.compile(self.model)       # built at the first step; see compiled_step
        self.progress = Progress()
        self.carry = None
        self.threads = tuner_for(config.threads)         # --threads 0: timed, the faster count kept
        self.sync_every = STEPS_PER_SYNC.get(placement.device.type, 1)

    # ---- checkpoints -------------------------------------------------------------------
    def save(self, path) -> None:
        carried = gather_objects(detach_state(self.carry) if self.carry is not None else None, self.placement)
        rngs = gather_objects({"torch": torch.get_rng_state(), "python": random.getstate()}, self.placement)
        if self.placement.is_main:
            save_checkpoint(path, {**self.learner_state(), "progress": dataclasses.asdict(self.progress),
                                   "rng": rngs[0], "rng_by_rank": rngs, "hidden_by_rank": carried})

    def learner_state(self) -> dict:
        return {"model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(), "scaler": self.scaler.state_dict()}

    def load_learner_state(self, payload: dict) -> None:
        self.raw_model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.schedule.load_state_dict(payload["schedule"])
        if payload.get("scaler"):                  # fp16 runs; empty for the others and absent before
            self.scaler.load_state_dict(payload["scaler"])
        # Each process's own random state (dropout, sampling); checkpoints of earlier versions keep
        # rank 0's only, as a dict or (dialogue runs) the torch state alone.
        by_rank = payload.get("rng_by_rank") or [payload["rng"]]
        rng = by_rank[self.placement.rank] if self.placement.rank < len(by_rank) else by_rank[0]
        torch.set_rng_state(rng["torch"] if isinstance(rng, dict) else rng)
        if isinstance(rng, dict) and "python" in rng:
            random.setstate(rng["python"])

    def resume(self) -> None:
        payload = load_checkpoint(self.run.last_checkpoint)
        self.load_learner_state(payload)
        self.progress = Progress.restore(payload["progress"])
        # A finished run resumed with more --epochs goes on, unless early stopping ended it.
        self.progress.finished = self.stopped_early()
        carried = payload.get("hidden_by_rank") or [None]
        carry = carried[self.placement.rank] if self.placement.rank < len(carried) else None
        if carry is not None and self.progress.position:
            self.carry = map_state(carry, lambda t: t.to(self.placement.device))
        if self.placement.is_main:
            self.run.truncate_metrics(self.progress.metrics_count)

    # ---- the loop -----------------------------------------------------------------------
    def fit(self) -> list[dict]:
        p = self.progress
        self.emit("train_started")
        if self.precision != "fp32" or self.compiled:
            scaled = " with a gradient scaler" if self.scaler is not None and self.scaler.is_enabled() else ""
            self.emit("note", f"training in {self.precision}{scaled}" + (", compiled" if self.compiled else ""))
        while not p.finished and p.epoch <= self.config.epochs:
            out_of_time = self.train_epoch()
            self.end_epoch(partial=out_of_time)
            if out_of_time:
                break
        self.emit("train_ended")
        return self.run.read_metrics() if self.placement.is_main else []

    def train_epoch(self) -> bool:
        """Train from the saved position to the end of the epoch; True when time ran out."""
        c, p = self.config, self.progress
        self.model.train()
        if p.position == 0:
            self.carry = None
        self.emit("epoch_started", *self.objective.count(p.epoch, p.position))
        started, tokens_seen, unread = time.perf_counter(), 0, []
        for position, batch in self.objective.batches(p.epoch, p.position):
            result = self.train_step(batch)
            p.position = position
            p.epoch_tokens += result.tokens
            for key, value in result.extra.items():
                p.epoch_extra[key] = p.epoch_extra.get(key, 0.0) + value
            tokens_seen += result.tokens * self.placement.world_size
            now = time.perf_counter()
            unread.append((p.step, result.nll, result.tokens, p.epoch_tokens, tokens_seen / max(now - started, 1e-9)))
            checkpoint_due = c.checkpoint_every and p.step % c.checkpoint_every == 0
            if checkpoint_due or len(unread) >= self.sync_every:
                self.report_steps(unread)
            if checkpoint_due:
                self.save(self.run.last_checkpoint)
            if c.max_minutes and broadcast_flag(p.elapsed + now - started > c.max_minutes * 60, self.placement):
                self.report_steps(unread)
                p.elapsed += now - started
                return True
        self.report_steps(unread)
        p.elapsed += time.perf_counter() - started
        return False

    def report_steps(self, unread: list) -> None:
        """Add the unread steps' losses to the epoch's sum (one transfer from the device for all of
        them) and tell the callbacks of each step, in order; empties `unread`."""
        if not unread:
            return
        p = self.progress
        on_device = [nll for _, nll, *_ in unread if isinstance(nll, torch.Tensor)]
        values = iter(torch.stack([t.detach().double() for t in on_device]).tolist() if on_device else [])
        for step, nll, tokens, epoch_tokens, tokens_per_second in unread:
            nll = next(values) if isinstance(nll, torch.Tensor) else nll
            p.epoch_nll += nll
            self.emit("step_done", {"step": step, "loss": nll / max(tokens, 1),
                                    "epoch_loss": p.epoch_nll / max(epoch_tokens, 1),
                                    "tokens_per_second": tokens_per_second})
        unread.clear()

    def train_step(self, batch) -> StepResult:
        carry = detach_state(self.carry) if self.carry is not None else None       # truncated BPTT: cut the graph
        if isinstance(self.raw_model, AveragedWeights):        # --average: the weights after the last step
            self.raw_model.update_average(self.progress.step)
        with timed(self.threads):
            result = self.compiled_step(batch, carry) if self.compiling else self.forward_backward(batch, carry)
            if self.config.clip:
                self.scaler.unscale_(self.optimizer)             # fp16: clip the true gradients
                torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.config.clip)
            for group in self.optimizer.param_groups:
                group["lr"] *= result.lr_scale
            self.scaler.step(self.optimizer)                     # fp16: skipped when a gradient overflowed
            self.scaler.update()
            for group in self.optimizer.param_groups:
                group["lr"] /= result.lr_scale
        self.carry = result.carry
        self.progress.step += 1
        return result

    def forward_backward(self, batch, carry) -> StepResult:
        with autocast(self.precision, self.placement.device):
            result = self.objective.step(self.model, batch, carry, self.progress.step)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(result.loss).backward()
        return result

    def compiled_step(self, batch, carry) -> StepResult:
        """The first step of a compiled model, where torch.compile builds it: should that fail on
        this platform, one line says so and the run goes on uncompiled from the same random state."""
        device = self.placement.device
        rng = torch.get_rng_state(), (torch.cuda.get_rng_state(device) if device.type == "cuda" else None)
        try:
            result = self.forward_backward(batch, carry)
        except Exception as err:
            if not type(err).__module__.startswith(("torch._dynamo", "torch._inductor", "torch._functorch")):
                raise
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
            self.emit("note", f"note: --compile failed on this platform ({reason}); training uncompiled")
            self.model, self.compiled = self.eager_model, False
            torch.set_rng_state(rng[0])
            if rng[1] is not None:
                torch.cuda.set_rng_state(rng[1], device)
            result = self.forward_backward(batch, carry)
        self.compiling = False
        return result

    def end_epoch(self, partial: bool) -> dict:
        p = self.progress
        started = time.perf_counter()
        valid = self.validate()
        p.elapsed += time.perf_counter() - started             # the budget is wall-clock: validation counts
        record = {"epoch": p.epoch, "step": p.step, **self.objective.train_fields(p), **valid,
                  "lr": self.schedule.lr, "elapsed_s": round(p.elapsed, 2)}
        if p.metrics_count == 0:                                # the run's first record says how it trained
            record.update(precision=self.precision, compiled=self.compiled)
        if partial:
            record["partial"] = True
        loss = valid["valid_loss"]
        # An epoch is bad unless it beats the best by ReduceLROnPlateau's margin (1e-4 relative): a run
        # whose learning rate has decayed to nothing must not go on for ever on gains of 1e-7.
        margin = EARLY_STOP_MARGIN * abs(p.best_valid) if math.isfinite(p.best_valid) else 0.0
        p.bad_epochs = 0 if loss < p.best_valid - margin else p.bad_epochs + 1
        improved = loss < p.best_valid
        if improved:
            p.best_valid = loss
        if not partial:
            self.schedule.after_epoch(p.epoch, valid["valid_loss"])
            p.next_epoch()
            self.carry = None
        p.finished = self.stopped_early() or p.epoch > self.config.epochs
        if self.placement.is_main:
            p.metrics_count += 1
        self.emit("epoch_ended", record)
        if improved and self.objective.chooses_best:
            self.save(self.run.best_checkpoint)
        self.save(self.run.last_checkpoint)
        return record

    def validate(self) -> dict:
        """The objective's scores on its validation data; with --average, of the averaged weights."""
        with averaged_weights(self.raw_model):
            return self.objective.validate(self.raw_model)

    def stopped_early(self) -> bool:
        c, p = self.config, self.progress
        return bool(c.early_stop and self.objective.chooses_best and p.bad_epochs >= c.early_stop)

    def emit(self, event: str, *args) -> None:
        if self.placement.is_main:
            for callback in self.callbacks:
                getattr(callback, event)(self, *args)

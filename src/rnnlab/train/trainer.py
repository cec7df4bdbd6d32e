"""Stateful truncated-BPTT training with exact resume.

The Trainer knows the model only through `model(inputs, state, targets) -> LMOutput` and
`model.initial_state(batch)`. It owns the loop, clipping, the schedule, evaluation, early
stopping, the time budget and checkpoints. A checkpoint holds everything that decides what
happens next (weights, optimiser, schedule, RNG, data position, carried hidden state, the
epoch's running loss), so a killed run resumes to the same numbers.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from rnnlab.config import TrainConfig
from rnnlab.data.streams import batchify, count_windows, windows
from rnnlab.models.recurrent import detach_state, map_state
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.train.distributed import Placement, broadcast_flag, gather_objects
from rnnlab.train.evaluate import evaluate_stream
from rnnlab.train.metrics import plot_metrics
from rnnlab.train.optim import Schedule, make_optimizer


@dataclass
class Progress:
    """Where the run stands; saved in every checkpoint."""

    epoch: int = 1
    position: int = 0            # next window start within the epoch's stream
    step: int = 0                # optimiser steps so far
    epoch_nll: float = 0.0       # running sums for this epoch's train loss
    epoch_tokens: int = 0
    best_valid: float = math.inf
    bad_epochs: int = 0
    elapsed: float = 0.0         # seconds of training, across resumes
    metrics_count: int = 0       # metrics.jsonl records belonging to this state
    finished: bool = False


@dataclass
class Trainer:
    model: torch.nn.Module
    config: TrainConfig
    placement: Placement
    run: RunDir
    unit: str = "perplexity"                       # or "bpc" for characters
    callbacks: list[Callable] = field(default_factory=list)   # called as cb(trainer, event, info)

    def __post_init__(self):
        self.raw_model = self.model
        if self.placement.distributed:
            ids = [self.placement.device.index] if self.placement.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = make_optimizer(self.raw_model.parameters(), self.config)
        self.schedule = Schedule(self.optimizer, self.config)
        self.progress = Progress()
        self.state = None

    # ---- checkpoints -------------------------------------------------------------------
    def save(self, path) -> None:
        states = gather_objects(detach_state(self.state) if self.state is not None else None, self.placement)
        if not self.placement.is_main:
            return
        save_checkpoint(path, {
            "model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(), "progress": vars(self.progress).copy(),
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate()},
            "hidden_by_rank": states})

    def resume(self) -> None:
        payload = load_checkpoint(self.run.last_checkpoint)
        self.raw_model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.schedule.load_state_dict(payload["schedule"])
        self.progress = Progress(**payload["progress"])
        # A finished run resumed with more --epochs goes on, unless early stopping ended it.
        self.progress.finished = bool(self.config.early_stop and self.progress.bad_epochs >= self.config.early_stop)
        torch.set_rng_state(payload["rng"]["torch"])
        random.setstate(payload["rng"]["python"])
        states = payload.get("hidden_by_rank") or [None]
        state = states[self.placement.rank] if self.placement.rank < len(states) else None
        self.state = _to_device(state, self.placement.device) if self.progress.position else None
        if self.placement.is_main:
            self.run.truncate_metrics(self.progress.metrics_count)

    # ---- the loop -----------------------------------------------------------------------
    def fit(self, train_ids: torch.Tensor, valid_ids: torch.Tensor) -> list[dict]:
        c, p = self.config, self.progress
        data = batchify(train_ids, c.batch_size, self.placement.rank, self.placement.world_size, name="training data")
        while not p.finished and p.epoch <= c.epochs:
            out_of_time = self.train_epoch(data)
            record = self.end_epoch(valid_ids, partial=out_of_time)
            self.emit("epoch", record)
            if out_of_time:
                break
        return self.run.read_metrics() if self.placement.is_main else []

    def train_epoch(self, data: torch.Tensor) -> bool:
        """Train from the saved position to the end of the epoch; True when time ran out."""
        c, p, device = self.config, self.progress, self.placement.device
        self.model.train()
        if self.state is None or p.position == 0:
            self.state = self.raw_model.initial_state(c.batch_size)
        total = count_windows(data, c.bptt, c.variable_bptt, c.seed, p.epoch)
        done = sum(1 for s, _, _ in windows(data, c.bptt, 0, c.variable_bptt, c.seed, p.epoch) if s < p.position)
        bar = tqdm(total=total, initial=done, desc=f"epoch {p.epoch}", leave=False, dynamic_ncols=True,
                   disable=not self.placement.is_main or None)
        started, tokens_seen = time.perf_counter(), 0
        for start, inputs, targets in windows(data, c.bptt, p.position, c.variable_bptt, c.seed, p.epoch):
            nll, tokens = self.train_step(inputs.to(device), targets.to(device))
            p.position = start + inputs.size(0)
            p.epoch_nll += nll
            p.epoch_tokens += tokens
            tokens_seen += tokens * self.placement.world_size
            now = time.perf_counter()
            bar.update(1)
            bar.set_postfix(self.describe(p.epoch_nll / p.epoch_tokens, tokens_seen / max(now - started, 1e-9)), refresh=False)
            self.emit("step", {"step": p.step, "loss": nll / tokens})
            if c.checkpoint_every and p.step % c.checkpoint_every == 0:
                self.save(self.run.last_checkpoint)
            if c.max_minutes and broadcast_flag(p.elapsed + now - started > c.max_minutes * 60, self.placement):
                p.elapsed += now - started
                bar.close()
                return True
        p.elapsed += time.perf_counter() - started
        bar.close()
        return False

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, int]:
        c = self.config
        self.state = detach_state(self.state)
        out = self.model(inputs, self.state, targets, c.activation_reg, c.temporal_reg)
        loss = out.nll_sum / out.tokens
        if out.penalty is not None:
            loss = loss + out.penalty
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.clip:
            torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), c.clip)
        scale = inputs.size(0) / c.bptt if c.variable_bptt else 1.0   # AWD: lr follows window length
        for group in self.optimizer.param_groups:
            group["lr"] *= scale
        self.optimizer.step()
        for group in self.optimizer.param_groups:
            group["lr"] /= scale
        self.state = out.state
        self.progress.step += 1
        return out.nll_sum.item(), out.tokens

    def end_epoch(self, valid_ids: torch.Tensor, partial: bool) -> dict:
        c, p = self.config, self.progress
        valid = evaluate_stream(self.raw_model, valid_ids, c.eval_batch_size, c.bptt, self.placement.device)
        train_loss = p.epoch_nll / max(p.epoch_tokens, 1)
        record = {"epoch": p.epoch, "step": p.step, "train_loss": train_loss, "valid_loss": valid["nll"],
                  "valid_ppl": valid["perplexity"], "valid_bpc": valid["bpc"], "lr": self.schedule.lr,
                  "elapsed_s": round(p.elapsed, 2)}
        if partial:
            record["partial"] = True
        improved = valid["nll"] < p.best_valid
        if improved:
            p.best_valid, p.bad_epochs = valid["nll"], 0
        else:
            p.bad_epochs += 1
        if not partial:
            self.schedule.after_epoch(p.epoch, valid["nll"])
            p.epoch, p.position, p.epoch_nll, p.epoch_tokens = p.epoch + 1, 0, 0.0, 0
            self.state = None
        if c.early_stop and p.bad_epochs >= c.early_stop:
            p.finished = True
        if p.epoch > c.epochs:
            p.finished = True
        if self.placement.is_main:
            self.run.append_metrics(record)
            p.metrics_count += 1
            plot_metrics(self.run.read_metrics(), self.run.plot_path, self.unit)
        if improved:
            self.save(self.run.best_checkpoint)
        self.save(self.run.last_checkpoint)
        return record

    # ---- reporting ----------------------------------------------------------------------
    def describe(self, loss: float, tokens_per_second: float) -> dict:
        shown = {"loss": f"{loss:.3f}"}
        if self.unit == "bpc":
            shown["bpc"] = f"{loss / math.log(2):.3f}"
        elif self.unit != "nll":
            shown["ppl"] = f"{math.exp(min(loss, 50)):.1f}"
        shown["tok/s"] = f"{tokens_per_second:,.0f}"
        return shown

    def emit(self, event: str, info: dict) -> None:
        for callback in self.callbacks:
            callback(self, event, info)


def _to_device(state, device):
    if state is None:
        return None
    return map_state(state, lambda t: t.to(device))

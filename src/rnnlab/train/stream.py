"""Stateful truncated BPTT over one stream (text, MIDI events, piano-roll frames, series rows).

The stream is laid out as parallel columns (`batchify`) and walked in windows; the hidden state
carried from one window to the next continues the same column. The model is known only through
`model(inputs, state, targets, activation_reg, temporal_reg) -> LMOutput` and `initial_state(batch)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from rnnlab.config import TrainConfig
from rnnlab.data.streams import batchify, count_windows, windows
from rnnlab.train.distributed import Placement, pinned, to_device
from rnnlab.train.evaluate import evaluate_stream
from rnnlab.train.loop import Progress, StepResult
from rnnlab.train.metrics import QUALITY_CURVES


@dataclass
class StreamObjective:
    """Next-step prediction on a stream: `position` is the next window's first step."""

    train_ids: torch.Tensor               # (length,) ids or (length, features)
    valid_ids: torch.Tensor
    config: TrainConfig
    placement: Placement
    unit: str = "perplexity"              # or bpc (characters), nll (series, piano rolls)
    chooses_best: bool = True

    def __post_init__(self):
        p = self.placement
        self.data = pinned(batchify(self.train_ids, self.config.batch_size, p.rank, p.world_size,
                                    name="training data"), p.device)
        self.curves = QUALITY_CURVES[self.unit]

    def batches(self, epoch: int, position: int) -> Iterator[tuple[int, tuple[torch.Tensor, torch.Tensor]]]:
        c = self.config
        for start, inputs, targets in windows(self.data, c.bptt, position, c.variable_bptt, c.seed, epoch):
            yield start + inputs.size(0), (inputs, targets)

    def count(self, epoch: int, position: int) -> tuple[int, int]:
        c = self.config
        done = sum(1 for s, _, _ in windows(self.data, c.bptt, 0, c.variable_bptt, c.seed, epoch) if s < position)
        return count_windows(self.data, c.bptt, c.variable_bptt, c.seed, epoch), done

    def step(self, model, batch, carry, step: int) -> StepResult:
        c, device = self.config, self.placement.device
        inputs, targets = to_device(batch[0], device), to_device(batch[1], device)
        if carry is None:
            carry = unwrapped(model).initial_state(c.batch_size)
        out = model(inputs, carry, targets, c.activation_reg, c.temporal_reg)
        loss = out.nll_sum / out.tokens
        if out.penalty is not None:
            loss = loss + out.penalty
        scale = inputs.size(0) / c.bptt if c.variable_bptt else 1.0
        return StepResult(loss, out.nll_sum.detach(), out.tokens, out.state, lr_scale=scale)   # read back later

    def validate(self, model) -> dict:
        c = self.config
        valid = evaluate_stream(model, self.valid_ids, c.eval_batch_size, c.bptt, self.placement.device)
        return {"valid_loss": valid["nll"], "valid_ppl": valid["perplexity"], "valid_bpc": valid["bpc"]}

    def train_fields(self, progress: Progress) -> dict:
        return {"train_loss": progress.epoch_nll / max(progress.epoch_tokens, 1)}

    def describe(self, record: dict) -> str:
        quality = {"bpc": f"valid bpc {record['valid_bpc']:.3f}",
                   "nll": f"valid NLL {record['valid_loss']:.4f} nats/step"}.get(
            self.unit, f"valid ppl {record['valid_ppl']:.2f}")
        return (f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, valid loss "
                f"{record['valid_loss']:.4f}, {quality}, lr {record['lr']:.3g}")


def unwrapped(model: torch.nn.Module) -> torch.nn.Module:
    """The model itself, under torch.compile's and DistributedDataParallel's wrappers or not."""
    from torch.nn.parallel import DistributedDataParallel

    model = getattr(model, "_orig_mod", model)                      # torch.compile's OptimizedModule
    return model.module if isinstance(model, DistributedDataParallel) else model

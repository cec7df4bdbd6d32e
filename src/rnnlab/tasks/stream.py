"""Tasks whose data is one stream learnt step by step (text, MIDI events, piano rolls, series).

They differ in how the stream is read, what the run keeps beside its weights, and the model;
training is the shared stateful truncated-BPTT objective of `train.stream`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.tasks.base import Prepared, Task, TrainedRun, load_weights
from rnnlab.train.distributed import Placement
from rnnlab.train.stream import StreamObjective


@dataclass
class StreamData:
    splits: dict[str, torch.Tensor]       # split -> (length,) ids or (length, features)
    output_size: int                      # vocabulary size, or features per step
    unit: str                             # how quality reads: "perplexity", "bpc" or "nll"
    summary: str                          # one line for the log
    write: Callable[[Path], None]         # saves vocab / statistics into a new run folder


class StreamTask(Task):
    """A task learnt as next-step prediction on one stream; subclasses read the data and build the model."""

    def read(self, config: RunConfig, run_folder: Path, resume: bool) -> StreamData:
        """The run's data as streams (`config.data` says where; the task's own section how)."""
        raise NotImplementedError

    def read_assets(self, run: RunDir) -> tuple:
        """(tokenizer, vocabulary, output size, assets) from a trained run's folder."""
        raise NotImplementedError

    def model_for(self, config: RunConfig, output_size: int) -> torch.nn.Module:
        raise NotImplementedError

    def prepare(self, config: RunConfig, run: RunDir, resume: bool, placement: Placement) -> Prepared:
        data = self.read(config, run.path, resume)
        if data.splits["valid"].size(0) < 2:
            raise RnnlabError(f"{config.data.corpus}: the valid split has {data.splits['valid'].size(0)} steps; "
                              "use more data or a larger share in --split")
        return Prepared(data.summary, data.output_size, data.write, lambda model: StreamObjective(
            data.splits["train"], data.splits["valid"], config.train, placement, data.unit))

    def build_model(self, config: RunConfig, prepared: Prepared) -> torch.nn.Module:
        return self.model_for(config, prepared.output_size)

    def open(self, run: RunDir, config: RunConfig, which: str, device: torch.device) -> TrainedRun:
        tokenizer, vocab, output_size, assets = self.read_assets(run)
        model = load_weights(self.model_for(config, output_size), run, which, device)
        return TrainedRun(run, config, tokenizer, vocab, model, device, assets)

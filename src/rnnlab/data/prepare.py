"""From a DataConfig to training streams, whatever the modality.

Each modality (text, and those that later issues add) registers one function here that reads
its source, builds or reloads its vocabulary / statistics, and returns `PreparedData`. The
trainer then sees only time-major streams.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from rnnlab.config import DataConfig
from rnnlab.errors import RnnlabError

# modality -> "module:function" taking (DataConfig, run folder, resume) and returning PreparedData
PREPARERS = {
    "text": "rnnlab.tasks.language_model.data:prepare_text_run",
    "series": "rnnlab.tasks.series.data:prepare_series_run",
    "midi": "rnnlab.tasks.music.data:prepare_midi_run",
}


@dataclass
class PreparedData:
    splits: dict[str, torch.Tensor]       # split -> (length,) ids or (length, features)
    output_size: int                      # vocabulary size, or features per step
    unit: str                             # how quality reads: "perplexity", "bpc" or "nll"
    summary: str                          # one line for the log
    write: Callable[[Path], None]         # saves vocab / statistics into a new run folder


def prepare(config: DataConfig, run_folder: Path, resume: bool) -> PreparedData:
    if config.modality not in PREPARERS:
        raise RnnlabError(f"--modality {config.modality!r} is not one of: {', '.join(PREPARERS)}")
    module, function = PREPARERS[config.modality].split(":")
    return getattr(importlib.import_module(module), function)(config, run_folder, resume)

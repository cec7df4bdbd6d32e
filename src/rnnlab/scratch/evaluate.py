"""Perplexity with the NumPy model, by the protocol of rnnlab.train.evaluate: state carried
across the whole stream, no dropout; and a run directory opened for the NumPy engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.config import RunConfig
from rnnlab.data.streams import batchify, windows
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, Vocabulary, load_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.scratch.model import LanguageModel
from rnnlab.train.checkpoint import load_checkpoint
from rnnlab.train.evaluate import usable_batch_size


def evaluate_ids(model: LanguageModel, ids: torch.Tensor, batch_size: int, bptt: int) -> dict:
    """Mean NLL (nats/token) and perplexity of a 1-D id stream read as `batch_size` parallel streams."""
    batch_size = usable_batch_size(ids.size(0), batch_size)
    data = batchify(ids, batch_size)                               # (time, batch)
    model.reset_state()
    total, count = 0.0, 0
    for _, inputs, targets in windows(data, bptt):
        total += model.forward(inputs.numpy(), targets.numpy(), training=False)
        count += targets.numel()
    model.reset_state()
    nll = total / count
    return {"nll": nll, "perplexity": math.exp(min(nll, 700)), "bpc": nll / math.log(2),
            "tokens": count, "batch_size": batch_size}


@dataclass
class NumpyRun:
    """A text run opened for the NumPy engine: the fields of rnnlab.loading.TrainedRun it needs."""

    run: RunDir
    config: RunConfig
    tokenizer: TextTokenizer
    vocab: Vocabulary
    model: LanguageModel


def open_numpy_run(path, which: str = "best", dtype=np.float32) -> NumpyRun:
    """Load any text run, trained by either engine, into the NumPy model."""
    run = RunDir(path)
    config = run.load_config()
    if config.data.modality != "text":
        raise RnnlabError(f"{run.path}: a {config.data.modality} run; the NumPy engine reads text runs only")
    vocab, payload = load_vocabulary(run.vocab_path)
    tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
    checkpoint = run.best_checkpoint if which == "best" and run.best_checkpoint.exists() else run.last_checkpoint
    weights = load_checkpoint(checkpoint)["model"]
    model = LanguageModel(config.model, len(vocab), dtype)
    model.load_state_dict({name: value.float().numpy() if dtype == np.float32 else value.double().numpy()
                           for name, value in weights.items()}, str(checkpoint))
    return NumpyRun(run, config, tokenizer, vocab, model)

"""`rnnlab evaluate`: a trained run's perplexity on one of its splits or on another file."""

from __future__ import annotations

from pathlib import Path

from rnnlab.tasks.language_model.data import encode, read_splits
from rnnlab.data.text import read_text_source
from rnnlab.errors import RnnlabError
from rnnlab.runs_open import open_run
from rnnlab.train.distributed import pick_device
from rnnlab.train.evaluate import evaluate_stream


def evaluate_run(path, split: str = "test", data_file: str | None = None, batch_size: int = 1,
                 device: str = "auto", which: str = "best", engine: str = "torch") -> dict:
    if engine == "numpy":                       # the from-scratch engine reads the same run directory
        from rnnlab.scratch.adapter import open_numpy_run
        trained = open_numpy_run(path, which)
    else:
        trained = open_run(path, which, pick_device(device))
    config = trained.config
    if data_file:
        text, source = read_text_source(Path(data_file), config.data.encoding), data_file
    else:
        text, source = read_splits(config.data).texts.get(split, ""), f"{config.data.corpus} ({split})"
    tokens = trained.tokenizer.split(text)
    if len(tokens) < 2:
        raise RnnlabError(f"{source}: has {len(tokens)} tokens to evaluate; need at least 2")
    ids = encode(trained.vocab, tokens)
    unknown = int((ids == trained.vocab.unk_id).sum())
    result = evaluate_stream(trained.model, ids, batch_size, config.train.bptt, trained.device)
    result.update({"split": None if data_file else split, "data": source, "unknown_tokens": unknown,
                   "level": config.data.level})
    return result

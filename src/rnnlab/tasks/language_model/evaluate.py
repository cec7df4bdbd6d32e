"""`rnnlab evaluate`: a trained run's perplexity on one of its splits or on another file."""

from __future__ import annotations

from pathlib import Path

from rnnlab.tasks.language_model.data import encode, read_splits
from rnnlab.data.text import read_text_source
from rnnlab.errors import RnnlabError
from rnnlab.train.evaluate import evaluate_stream
from rnnlab.train.threads import tuner_for


def evaluate_run(trained, split: str = "test", data_file: str | None = None, batch_size: int = 1) -> dict:
    """Perplexity of an opened run (PyTorch or NumPy engine) with the state carried over the whole text."""
    config = trained.config
    if data_file:
        text, source = read_text_source(Path(data_file), config.data.encoding), data_file
    else:
        text, source = read_splits(config.data).texts.get(split, ""), f"{config.data.corpus} ({split})"
    result = evaluate_text(trained, text, source, batch_size)
    result["split"] = None if data_file else split
    return result


def evaluate_text(trained, text: str, source: str, batch_size: int = 1) -> dict:
    """Perplexity of `text` (named `source` in messages), the state carried over the whole of it."""
    if batch_size < 1:
        raise RnnlabError("--batch-size must be at least 1 (1: the exact protocol)")
    tokens = trained.tokenizer.split(text)
    if len(tokens) < 2:
        raise RnnlabError(f"{source}: has {len(tokens)} tokens to evaluate; need at least 2")
    ids = encode(trained.vocab, tokens)
    unknown = int((ids == trained.vocab.unk_id).sum())
    result = evaluate_stream(trained.model, ids, batch_size, trained.config.train.bptt, trained.device, tuner_for(trained.threads))
    result.update({"split": None, "data": source, "unknown_tokens": unknown, "level": trained.config.data.level})
    return result

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
    tokens = trained.tokenizer.split(text)
    if len(tokens) < 2:
        raise RnnlabError(f"{source}: has {len(tokens)} tokens to evaluate; need at least 2")
    ids = encode(trained.vocab, tokens)
    unknown = int((ids == trained.vocab.unk_id).sum())
    result = evaluate_stream(trained.model, ids, batch_size, config.train.bptt, trained.device, tuner_for(0))
    result.update({"split": None if data_file else split, "data": source, "unknown_tokens": unknown,
                   "level": config.data.level})
    return result

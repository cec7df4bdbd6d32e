"""`rnnlab evaluate` for midi-events runs: NLL per token, scored as text is (one stream, state carried)."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from rnnlab.tasks.music.midi import read_midi_source
from rnnlab.tasks.music.data import MusicSplits, event_streams, read_music_splits
from rnnlab.errors import RnnlabError
from rnnlab.train.evaluate import evaluate_stream
from rnnlab.train.threads import tuner_for


def pieces_to_score(trained, split: str, data_file: str | None) -> tuple[MusicSplits, dict]:
    """The pieces a music run is scored on (a split of its data, or a folder of MIDI files), and the
    fields every music task's `evaluate` result starts with."""
    if data_file:
        report = read_midi_source(Path(data_file))
        splits, source = MusicSplits({split: report.pieces}, report.skipped, data_file), data_file
    else:
        splits = read_music_splits(trained.config.data, tokenizer=trained.tokenizer)
        source = f"{trained.config.data.corpus} ({split})"
    return splits, {"split": None if data_file else split, "data": source, "tokenizer": trained.tokenizer.name,
                    "skipped_files": len(splits.skipped)}


def skipped_note(result: dict) -> str:
    """The end of `describe`'s line: how many files could not be read, when any."""
    return f"; {result['skipped_files']} file(s) skipped" if result["skipped_files"] else ""


def evaluate_events_run(trained, split: str = "test", data_file: str | None = None, batch_size: int = 1) -> dict:
    config = trained.config
    splits, result = pieces_to_score(trained, split, data_file)
    source = result["data"]
    if data_file:
        splits = MusicSplits({s: splits.pieces.get(s, []) for s in ("train", "valid", "test")}, splits.skipped, source)
    tokens = event_streams(trained.tokenizer, splits, config.data.split)[split]
    if len(tokens) < 2:
        raise RnnlabError(f"{source}: has {len(tokens)} tokens to evaluate; need at least 2")
    ids = torch.tensor(trained.vocab.encode(tokens), dtype=torch.long)
    scored = evaluate_stream(trained.model, ids, batch_size, config.train.bptt, trained.device, tuner_for(trained.threads))
    result.update(scored, unknown_tokens=int((ids == trained.vocab.unk_id).sum()),
                  metric="NLL per token (nats)")
    result["perplexity"] = math.exp(min(scored["nll"], 700))
    return result


def describe(result: dict) -> str:
    """One line for the terminal."""
    return (f"{result['data']}: NLL {result['nll']:.4f} nats/token, perplexity {result['perplexity']:.2f} over "
            f"{result['tokens']:,} {result['tokenizer']} tokens (batch size {result['batch_size']}; "
            f"{result['unknown_tokens']:,} tokens were <unk>){skipped_note(result)}")

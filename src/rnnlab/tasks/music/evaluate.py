"""`rnnlab evaluate` for midi runs: NLL per token for event models, the frame-level NLL for piano rolls.

Event models are scored as text is (one stream, state carried, `train.evaluate`); piano-roll
models by the polyphonic benchmark's protocol (`train.evaluate_frames`): sequences apart,
state reset, first frame unscored, the sum over 88 keys averaged over scored frames.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from rnnlab.config import parse_split
from rnnlab.tasks.music.midi import read_midi_source
from rnnlab.tasks.music.data import MusicSplits, cut_contiguous, event_streams, read_music_splits
from rnnlab.errors import RnnlabError
from rnnlab.train.evaluate import evaluate_stream
from rnnlab.train.threads import tuner_for
from rnnlab.tasks.music.frame_nll import evaluate_frames


def pieces_to_score(config, split: str, data_file: str | None, tokenizer=None) -> tuple[MusicSplits, str]:
    if data_file:
        report = read_midi_source(Path(data_file))
        return MusicSplits({split: report.pieces}, report.skipped, data_file), data_file
    return read_music_splits(config.data, tokenizer=tokenizer), f"{config.data.corpus} ({split})"


def evaluate_midi_run(trained, split: str = "test", data_file: str | None = None, batch_size: int = 1) -> dict:
    config = trained.config
    splits, source = pieces_to_score(config, split, data_file, trained.tokenizer)
    result = {"split": None if data_file else split, "data": source, "tokenizer": trained.tokenizer.name,
              "skipped_files": len(splits.skipped)}
    if trained.tokenizer.name == "pianoroll":
        codec = trained.tokenizer
        if splits.contiguous and not data_file:
            joined = [codec.frames(p) for p in splits.pieces["train"]]
            sequences = [cut_contiguous(np.concatenate(joined), parse_split(config.data.split))[split]]
        else:
            sequences = [codec.frames(p) for p in splits.pieces[split]]
        scored = evaluate_frames(trained.model, sequences, trained.device)
        if scored["frames"] == 0:
            raise RnnlabError(f"{source}: no sequence of two or more frames to evaluate")
        result.update(scored, metric="frame NLL (nats per frame, summed over 88 keys)")
        return result
    no_transpose = dataclasses.replace(config.data, transpose=0)
    if data_file:
        splits = MusicSplits({s: splits.pieces.get(s, []) for s in ("train", "valid", "test")}, splits.skipped, source)
    tokens = event_streams(trained.tokenizer, splits, no_transpose)[split]
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
    skipped = f"; {result['skipped_files']} file(s) skipped" if result["skipped_files"] else ""
    if result["tokenizer"] == "pianoroll":
        return (f"{result['data']}: frame NLL {result['nll']:.4f} nats per frame (sum over 88 keys) over "
                f"{result['frames']:,} frames of {result['sequences']} sequences; state reset per sequence, "
                f"first frame unscored{skipped}")
    return (f"{result['data']}: NLL {result['nll']:.4f} nats/token, perplexity {result['perplexity']:.2f} over "
            f"{result['tokens']:,} {result['tokenizer']} tokens (batch size {result['batch_size']}; "
            f"{result['unknown_tokens']:,} tokens were <unk>){skipped}")

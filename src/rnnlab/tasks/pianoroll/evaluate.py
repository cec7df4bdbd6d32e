"""`rnnlab evaluate` for piano-roll runs: the frame-level NLL by the polyphonic benchmark's protocol.

Sequences apart, state reset, first frame unscored, the sum over 88 keys averaged over scored
frames (`frame_nll.evaluate_frames`).
"""

from __future__ import annotations

import numpy as np

from rnnlab.config import parse_split
from rnnlab.errors import RnnlabError
from rnnlab.tasks.music.data import cut_contiguous
from rnnlab.tasks.music.evaluate import pieces_to_score, skipped_note
from rnnlab.tasks.pianoroll.frame_nll import evaluate_frames


def evaluate_pianoroll_run(trained, split: str = "test", data_file: str | None = None, batch_size: int = 1) -> dict:
    """The frame NLL of a split (or of a folder of MIDI files); `batch_size` has no part in it
    (every sequence is scored on its own)."""
    config, codec = trained.config, trained.tokenizer
    splits, result = pieces_to_score(trained, split, data_file)
    if splits.contiguous and not data_file:
        joined = [codec.frames(p) for p in splits.pieces["train"]]
        sequences = [cut_contiguous(np.concatenate(joined), parse_split(config.data.split))[split]]
    else:
        sequences = [codec.frames(p) for p in splits.pieces[split]]
    scored = evaluate_frames(trained.model, sequences, trained.device)
    if scored["frames"] == 0:
        raise RnnlabError(f"{result['data']}: no sequence of two or more frames to evaluate")
    result.update(scored, metric="frame NLL (nats per frame, summed over 88 keys)")
    return result


def describe(result: dict) -> str:
    """One line for the terminal."""
    return (f"{result['data']}: frame NLL {result['nll']:.4f} nats per frame (sum over 88 keys) over "
            f"{result['frames']:,} frames of {result['sequences']} sequences; state reset per sequence, "
            f"first frame unscored{skipped_note(result)}")

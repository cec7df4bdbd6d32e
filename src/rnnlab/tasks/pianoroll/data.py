"""The piano-roll task's data: pieces per split -> one (steps, 89) frame stream per split.

88 keys plus the piece-start column; the pieces come as the MIDI tasks read them (a benchmark
set's own split, or a folder of files), the key names stand as the run's vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rnnlab.config import DataConfig, parse_split
from rnnlab.data.tokenize import Vocabulary, load_vocabulary
from rnnlab.tasks.music import corpora as music_corpora
from rnnlab.tasks.music.data import (
    SPLITS,
    MusicSplits,
    augmented,
    corpus_qpm,
    cut_contiguous,
    files_used,
    read_music_splits,
    save_music_vocabulary,
)
from rnnlab.tasks.music.frames import KEYS, key_names, training_frames
from rnnlab.tasks.music.midi import Piece
from rnnlab.tasks.pianoroll.codec import PianorollCodec
from rnnlab.tasks.pianoroll.config import PianorollConfig


def codec_settings(data: DataConfig, roll: PianorollConfig) -> dict:
    """The codec's settings for a new run: the frame grid asked for, else the corpus's own, else 4 a beat."""
    return {"name": PianorollCodec.name,
            "steps_per_beat": roll.steps_per_beat or music_corpora.STEPS_PER_BEAT.get(data.corpus, 4)}


def frame_streams(codec, splits: MusicSplits, fractions: str, transpose: int = 0) -> dict[str, torch.Tensor]:
    """split -> (steps, 89) frames; contiguous cuts give each part its own piece-start mark."""
    def frames_of(piece: Piece) -> np.ndarray:
        known = splits.encoded.get(id(piece))
        return known if known is not None else codec.frames(piece)

    frames = {s: [frames_of(p) for p in (augmented(splits.pieces[s], transpose) if s == "train"
                                          else splits.pieces[s])] for s in SPLITS}
    if splits.contiguous:
        joined = np.concatenate([f for f in frames["train"] if len(f)] or [np.zeros((0, KEYS), bool)])
        frames = {s: [part] for s, part in cut_contiguous(joined, parse_split(fractions)).items()}
    return {s: training_frames(f) for s, f in frames.items()}


def prepare_pianoroll_run(config: DataConfig, roll: PianorollConfig, run_folder: Path, resume: bool):
    """A piano-roll run's training frames; vocab.json holds the key names and the codec's settings."""
    from rnnlab.tasks.stream import StreamData

    settings = load_vocabulary(run_folder / "vocab.json")[1]["tokenizer"] if resume else codec_settings(config, roll)
    codec = PianorollCodec(settings)
    splits = read_music_splits(config, tokenizer=codec)
    streams = frame_streams(codec, splits, config.split, roll.transpose)
    names = Vocabulary(key_names())
    summary = (f"{files_used(config, splits)}; {streams['train'].size(0):,} training frames at "
               f"{codec.steps_per_beat} per beat")
    train = streams["train"]
    openings = train[train[:, KEYS] == 1, :KEYS].sum(1)
    facts = {"qpm": corpus_qpm(splits.pieces["train"]),
             "opening_keys": int(openings.max()) if openings.numel() else None,
             "most_keys": int(train[:, :KEYS].sum(1).max()) if train.size(0) else None}
    return StreamData(streams, KEYS, "nll", summary,
                      lambda folder: save_music_vocabulary(folder, names, codec, facts, splits, facts["qpm"]))

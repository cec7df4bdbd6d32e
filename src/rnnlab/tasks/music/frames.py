"""The piano-roll grid: each time step a multi-hot frame over the 88 piano keys (pitches 21..108).

The polyphonic-benchmark representation (Boulanger-Lewandowski et al. 2012): a score is
sampled on its beat grid at `steps_per_beat` (1: quarter notes, as JSB Chorales; 2: eighths),
drums left out. Back to MIDI, a key held over consecutive frames is one note.
The frames the trainer sees carry one more column: 1 on the first frame of a piece, so the
model knows a piece starts and that frame is never scored (the benchmark's protocol). The
benchmark sets arrive in this form; the pianoroll task learns from it.
"""

from __future__ import annotations


import numpy as np
import torch

from rnnlab.tasks.music.midi import KEYS, LOWEST_KEY, pitch_name

START = KEYS                         # index of the piece-start column in training frames


def key_names() -> list[str]:
    """A0 .. C8: the names of the 88 frame columns (saved as the run's vocabulary)."""
    return [pitch_name(p) for p in range(LOWEST_KEY, LOWEST_KEY + KEYS)]


def score_to_frames(score, steps_per_beat: int) -> np.ndarray:
    """(steps, 88) bool: which keys sound at each step of the score's beat grid (drums ignored)."""
    grid = score.resample(tpq=steps_per_beat, min_dur=1)
    tracks = [i for i, t in enumerate(grid.tracks) if not t.is_drum]
    steps = grid.end()
    if not tracks or steps == 0:
        return np.zeros((0, KEYS), dtype=bool)
    roll = grid.pianoroll(modes=["frame"], pitch_range=(LOWEST_KEY, LOWEST_KEY + KEYS))   # (1, tracks, 88, time)
    return roll[0, tracks].any(axis=0).T[:steps].astype(bool)                               # (time, 88)


def frames_from_pitch_lists(steps: list[list[int]]) -> np.ndarray:
    """The benchmark JSON layout (each step a list of sounding MIDI pitches) as (steps, 88) bool."""
    frames = np.zeros((len(steps), KEYS), dtype=bool)
    for t, pitches in enumerate(steps):
        for p in pitches:
            if LOWEST_KEY <= int(p) < LOWEST_KEY + KEYS:
                frames[t, int(p) - LOWEST_KEY] = True
    return frames


def training_frames(pieces: list[np.ndarray]) -> torch.Tensor:
    """Pieces joined into one (steps, 89) float stream; column 88 marks each piece's first frame."""
    parts = []
    for frames in pieces:
        if len(frames) == 0:
            continue
        block = np.zeros((len(frames), KEYS + 1), dtype=np.float32)
        block[:, :KEYS] = frames
        block[0, START] = 1.0
        parts.append(block)
    if not parts:
        return torch.zeros(0, KEYS + 1)
    return torch.from_numpy(np.concatenate(parts))

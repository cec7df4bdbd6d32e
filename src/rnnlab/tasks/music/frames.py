"""`pianoroll`: each time step a multi-hot frame over the 88 piano keys (pitches 21..108).

The polyphonic-benchmark representation (Boulanger-Lewandowski et al. 2012): a score is
sampled on its beat grid at `steps_per_beat` (1: quarter notes, as JSB Chorales; 2: eighths),
drums left out. Back to MIDI, a key held over consecutive frames is one note.
The frames the trainer sees carry one more column: 1 on the first frame of a piece, so the
model knows a piece starts and that frame is never scored (the benchmark's protocol).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rnnlab.tasks.music.midi import KEYS, LOWEST_KEY, TICKS_PER_BEAT, Piece, frames_to_score, pitch_name, score_to_midi
from rnnlab.errors import RnnlabError

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


class PianorollCodec:
    """Piece <-> frames at a fixed quantisation; the pianoroll counterpart of a MidiTokenizer."""

    name = "pianoroll"
    transposable = True

    def __init__(self, settings: dict | None = None, run_folder: Path | None = None):
        self.steps_per_beat = int((settings or {}).get("steps_per_beat") or 4)
        if self.steps_per_beat < 1 or TICKS_PER_BEAT % self.steps_per_beat:
            raise RnnlabError(f"--steps-per-beat {self.steps_per_beat}: must divide {TICKS_PER_BEAT}")

    def settings(self) -> dict:
        return {"name": self.name, "steps_per_beat": self.steps_per_beat}

    def frames(self, piece: Piece) -> np.ndarray:
        if piece.frames is not None:
            if piece.steps_per_beat != self.steps_per_beat:
                raise RnnlabError(f"{piece.name}: its frames are at {piece.steps_per_beat} steps per beat, "
                                  f"not {self.steps_per_beat}; pass --steps-per-beat {piece.steps_per_beat}")
            return piece.frames
        return score_to_frames(piece.to_score(), self.steps_per_beat)

    def decode(self, frames: np.ndarray, qpm: float = 120.0):
        return frames_to_score(frames, self.steps_per_beat, qpm)

    def decode_midi(self, frames: np.ndarray, qpm: float = 120.0) -> bytes:
        return score_to_midi(self.decode(frames, qpm))

    def save_files(self, folder: Path) -> None:
        pass

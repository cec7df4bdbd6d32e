"""Piece <-> piano-roll frames at a fixed quantisation: the piano roll's counterpart of a MIDI tokeniser."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.errors import RnnlabError
from rnnlab.tasks.music.frames import score_to_frames
from rnnlab.tasks.music.midi import (
    TICKS_PER_BEAT,
    Piece,
    frames_to_score,
    score_to_midi,
)


class PianorollCodec:
    """Frames of a piece at `steps_per_beat`, and a score back from frames."""

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

    def encode(self, piece: Piece) -> np.ndarray:
        """The frames a piece is learnt from; RnnlabError naming the file when no key sounds."""
        frames = self.frames(piece)
        if not frames.any():
            raise RnnlabError(f"{piece.label}: no notes on the 88 piano keys (drums are left out of piano rolls)")
        return frames

    def decode(self, frames: np.ndarray, qpm: float = 120.0):
        return frames_to_score(frames, self.steps_per_beat, qpm)

    def decode_midi(self, frames: np.ndarray, qpm: float = 120.0) -> bytes:
        return score_to_midi(self.decode(frames, qpm))

    def give_back(self, piece: Piece, encoded=None, qpm: float | None = None):
        """The piece as the model learns it, as a score: its frames (`encoded`, when known) played at `qpm`."""
        return self.decode(encoded if encoded is not None else self.frames(piece), qpm or 120.0)

    def save_files(self, folder: Path) -> None:
        pass

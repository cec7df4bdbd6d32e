"""`performance`: Performance RNN's events (Oore et al. 2018) over every track and instrument.

NOTE_ON_p / NOTE_OFF_p (p = 0..127), TIME_SHIFT_n (n = 1..100 steps of 10 ms), VELOCITY_v
(32 bins), and PROGRAM_k / PROGRAM_DRUM naming the instrument the next note events belong to.
Velocity and program are states: a token is written only when they change. Events at one
time step are ordered note-offs first, then by instrument and pitch, so that decoding and
encoding again gives the same tokens.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rnnlab.tasks.music.midi import (MidiTokenizer, Piece, _symusic, note_order, pedalled_score, score_to_midi,
                                     settle_notes)

STEPS_PER_SECOND = 100
MAX_SHIFT = 100                      # one TIME_SHIFT moves at most one second
VELOCITY_BINS = 32
DRUMS = 128                          # instrument key of drum tracks
TICKS_PER_SECOND = 1000              # decoding writes tpq 500 at 120 bpm: one tick per ms


def instrument_token(key: int) -> str:
    return "PROGRAM_DRUM" if key == DRUMS else f"PROGRAM_{key}"


class PerformanceTokenizer(MidiTokenizer):
    name = "performance"

    def __init__(self, settings: dict | None = None, run_folder: Path | None = None):
        pass

    def fixed_vocabulary(self) -> list[str]:
        return ([f"NOTE_ON_{p}" for p in range(128)] + [f"NOTE_OFF_{p}" for p in range(128)]
                + [f"TIME_SHIFT_{n}" for n in range(1, MAX_SHIFT + 1)]
                + [f"VELOCITY_{v}" for v in range(VELOCITY_BINS)]
                + [instrument_token(k) for k in range(DRUMS + 1)])

    def events(self, piece: Piece) -> list[tuple]:
        """(step, is_on, instrument, pitch, velocity bin), in canonical order."""
        score = pedalled_score(piece).to("second")
        rows: dict[int, list[tuple]] = defaultdict(list)
        for track in score.tracks:
            key = DRUMS if track.is_drum else track.program
            for note in track.notes:
                start = round(note.start * STEPS_PER_SECOND)
                end = max(round(note.end * STEPS_PER_SECOND), start + 1)
                rows[key].append((start, end, note.pitch, min(note.velocity, 127) * VELOCITY_BINS // 128))
        events = []
        for key, notes in rows.items():          # one pitch of one instrument never sounds twice at once
            for start, end, pitch, level in settle_notes(notes):
                events.append((start, 1, key, pitch, level))
                events.append((end, 0, key, pitch, 0))
        return sorted(events)

    def encode(self, piece: Piece) -> list[str]:
        tokens, now, instrument, velocity = [], 0, None, None
        for step, is_on, key, pitch, level in self.events(piece):
            while step > now:
                shift = min(step - now, MAX_SHIFT)
                tokens.append(f"TIME_SHIFT_{shift}")
                now += shift
            if key != instrument:
                tokens.append(instrument_token(key))
                instrument = key
            if is_on and level != velocity:
                tokens.append(f"VELOCITY_{level}")
                velocity = level
            tokens.append(f"NOTE_ON_{pitch}" if is_on else f"NOTE_OFF_{pitch}")
        return tokens

    def is_program(self, token: str) -> bool:
        return token.startswith("PROGRAM_")

    def note_pitch(self, token: str) -> int | None:
        return int(token[8:]) if token.startswith("NOTE_ON_") and token[8:].isdigit() else None

    def notes(self, tokens: list[str]) -> dict[int, list[tuple[int, int, int, int]]]:
        """instrument -> [(start step, end step, pitch, velocity)]; notes left open end at the last step.

        A pitch sounds at most once per instrument: NOTE_ON of a sounding pitch ends the sounding
        note first, or is dropped when that note began at this very step; NOTE_OFF of a silent pitch
        is ignored."""
        now, instrument, velocity = 0, 0, 64
        open_notes: dict[tuple[int, int], tuple[int, int]] = {}
        done: dict[int, list] = defaultdict(list)
        for token in tokens:
            kind, _, value = token.rpartition("_")
            if kind == "TIME_SHIFT" and value.isdigit():
                now += int(value)
            elif kind == "PROGRAM":
                instrument = DRUMS if value == "DRUM" else int(value)
            elif kind == "VELOCITY" and value.isdigit():
                velocity = int(value) * 128 // VELOCITY_BINS + 2
            elif kind == "NOTE_ON" and value.isdigit():
                sounding = open_notes.get((instrument, int(value)))
                if sounding is not None and sounding[0] == now:
                    continue                                        # the same note struck twice at once
                if sounding is not None:
                    done[instrument].append((sounding[0], now, int(value), sounding[1]))
                open_notes[(instrument, int(value))] = (now, velocity)
            elif kind == "NOTE_OFF" and value.isdigit() and (instrument, int(value)) in open_notes:
                start, vel = open_notes.pop((instrument, int(value)))
                done[instrument].append((start, max(now, start + 1), int(value), vel))
        for (key, pitch), (start, vel) in open_notes.items():
            done[key].append((start, max(now, start + 1), pitch, vel))
        return done

    def decode(self, tokens: list[str]):
        symusic = _symusic()
        score = symusic.Score(TICKS_PER_SECOND // 2)
        score.tempos.append(symusic.Tempo(0, 120.0))
        ticks = TICKS_PER_SECOND // STEPS_PER_SECOND
        for key, notes in sorted(self.notes(tokens).items()):
            track = symusic.Track(instrument_token(key).lower(), 0 if key == DRUMS else key, key == DRUMS)
            for start, end, pitch, velocity in sorted(notes, key=note_order):
                track.notes.append(symusic.Note(start * ticks, (end - start) * ticks, pitch, velocity))
            score.tracks.append(track)
        return score

    def decode_midi(self, tokens: list[str]) -> bytes:
        return score_to_midi(self.decode(tokens))

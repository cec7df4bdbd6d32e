"""MIDI in: files and folders read through symusic / mido, and the tokenisers that turn a piece into words.

A `Piece` is one piece of music however it arrived (a MIDI file, a symusic Score, or piano-roll
frames from a benchmark set); each tokeniser asks it for the form it needs. A file that cannot
be read is skipped with one warning line naming it. Tokenisers share one interface
(`MidiTokenizer`) and one vocabulary format (data.tokenize.Vocabulary), saved in the run.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rnnlab.errors import RnnlabError
from rnnlab.progress import progress_bar

MIDI_SUFFIXES = {".mid", ".midi", ".kar", ".smf"}
LOWEST_KEY, HIGHEST_KEY = 21, 108           # the 88 piano keys, A0 .. C8
KEYS = HIGHEST_KEY - LOWEST_KEY + 1
PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
MAX_HOURS = 2                               # longer files are taken for broken timing and skipped


def _symusic():
    try:
        import symusic
    except ImportError:
        raise RnnlabError("MIDI needs symusic: pip install 'rnnlab[music]'") from None
    return symusic


@dataclass
class Piece:
    """One piece: a MIDI file's bytes, a symusic Score, or (steps, 88) frames; the others derived."""

    name: str
    midi: bytes | None = None                # Standard MIDI File content
    score: object | None = None              # symusic.Score (ticks)
    frames: np.ndarray | None = None         # (steps, 88) bool, pitch = column + 21
    steps_per_beat: int = 0                  # the frames' quantisation
    source: str = ""                         # where it came from (the file's path), for messages

    @property
    def label(self) -> str:
        """The piece in one-line messages: its file's path, else its name."""
        return self.source or self.name

    def to_score(self):
        if self.score is None:
            if self.midi is not None:
                self.score = _symusic().Score.from_midi(self.midi)
            else:
                self.score = frames_to_score(self.frames, self.steps_per_beat)
        return self.score

    def to_midi(self) -> bytes:
        if self.midi is None:
            self.midi = score_to_midi(self.to_score())
        return self.midi


def pitch_name(pitch: int) -> str:
    """60 -> "C4" (scientific pitch notation, as MIDI's middle C)."""
    return f"{PITCH_CLASSES[pitch % 12]}{pitch // 12 - 1}"


def midi_format(raw: bytes) -> int | None:
    """The SMF format number from the header chunk (0, 1 or 2); None when there is no MThd."""
    if len(raw) < 14 or raw[:4] != b"MThd":
        return None
    return int.from_bytes(raw[8:10], "big")


def read_midi_file(path: Path) -> Piece:
    """A MIDI file as a Piece; RnnlabError naming the file and the reason when it is unusable."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RnnlabError(f"{path}: cannot read ({err.strerror or type(err).__name__})") from None
    kind = midi_format(raw)
    if kind is None:
        raise RnnlabError(f"{path}: not a Standard MIDI File (no MThd header)")
    if kind == 2:
        raise RnnlabError(f"{path}: MIDI format 2 (independent sequences) is not supported; "
                          "save it as format 0 or 1")
    try:
        score = _symusic().Score.from_midi(raw)
    except (RuntimeError, ValueError) as err:
        reason = str(err).replace("MiniMidi: ", "").replace(": iostream error", "").strip()
        raise RnnlabError(f"{path}: corrupt or truncated MIDI ({reason or type(err).__name__})") from None
    if score.note_num() == 0:
        raise RnnlabError(f"{path}: holds no notes")
    hours = score_seconds(score) / 3600
    if hours > MAX_HOURS:
        raise RnnlabError(f"{path}: lasts {hours:,.0f} hours (a huge delta time?); longer than {MAX_HOURS} hours")
    return Piece(path.stem, midi=raw, score=score, source=str(path))


def midi_files_in(folder: Path) -> list[Path]:
    """MIDI files under a folder, recursively, sorted; hidden files skipped."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    if not files:
        raise RnnlabError(f"{folder}: holds no MIDI files (.mid, .midi)")
    return files


@dataclass
class ReadReport:
    pieces: list[Piece]
    skipped: list[str]           # one reason line per skipped file


def read_midi_source(path: Path, warn: Callable[[str], None] = print) -> ReadReport:
    """Every readable MIDI file in a folder (or the one file); unusable files warned and skipped."""
    if not path.exists():
        raise RnnlabError(f"{path}: no such file or folder, and not a named corpus (see `rnnlab data list`)")
    files = midi_files_in(path) if path.is_dir() else [path]
    pieces, skipped = [], []
    for file in progress_bar(files, desc=f"reading {path.name}", unit="file"):
        try:
            pieces.append(read_midi_file(file))
        except RnnlabError as err:
            skipped.append(str(err))
            warn(f"warning: {err}; skipped")
    if not pieces:
        raise RnnlabError(f"{path}: none of its {len(files)} MIDI file(s) could be used")
    return ReadReport(pieces, skipped)


def transposed(piece: Piece, semitones: int) -> Piece | None:
    """A copy shifted by `semitones` (drums untouched); None when a note would leave the range."""
    if piece.frames is not None:                   # (steps, 88): move the columns
        keys = np.flatnonzero(piece.frames.any(axis=0))
        if not len(keys) or keys.min() + semitones < 0 or keys.max() + semitones >= KEYS:
            return None
        frames = np.roll(piece.frames, semitones, axis=1)
        return Piece(f"{piece.name}{semitones:+d}", frames=frames, steps_per_beat=piece.steps_per_beat,
                     source=f"{piece.label} (transposed {semitones:+d})")
    score = piece.to_score().copy()
    pitches = [n.pitch for t in score.tracks if not t.is_drum for n in t.notes]
    if not pitches or min(pitches) + semitones < 0 or max(pitches) + semitones > 127:
        return None
    for track in score.tracks:
        if not track.is_drum:
            track.shift_pitch(semitones, inplace=True)
    return Piece(f"{piece.name}{semitones:+d}", score=score, source=f"{piece.label} (transposed {semitones:+d})")


# ---- notes as (start, end, pitch, velocity) rows ----------------------------------------------
def note_order(row: tuple) -> tuple:
    """The one order notes are written and read in everywhere: by onset, then pitch, end, velocity.
    row: (start, end, pitch, velocity)."""
    start, end, pitch, velocity = row
    return start, pitch, end, velocity


def settle_notes(rows: list[tuple]) -> list[tuple]:
    """Notes of one instrument with no pitch sounding twice at once: a note struck again while it
    sounds ends where the new one starts, and a second note of a pitch at the same onset is dropped
    (the longer one kept). rows: (start, end, pitch, velocity); returned in note_order."""
    out, previous = [], {}
    for start, end, pitch, velocity in sorted(rows, key=lambda r: (r[2], r[0], -r[1])):
        last = previous.get(pitch)
        if last is not None and out[last][0] == start:
            continue                                    # a duplicate at one onset
        if last is not None and out[last][1] > start:
            out[last] = (out[last][0], start, pitch, out[last][3])      # struck again: the old one ends
        previous[pitch] = len(out)
        out.append((start, end, pitch, velocity))
    return sorted(out, key=note_order)


def _note_rows(track) -> list[tuple]:
    return [(n.start, n.end, n.pitch, n.velocity) for n in track.notes]


def set_notes(track, rows: list[tuple]) -> None:
    note = _symusic().Note
    track.notes.clear()
    track.notes.extend([note(start, end - start, pitch, velocity) for start, end, pitch, velocity in rows])


def without_stacked_notes(score):
    """A copy of the score in which no track sounds one pitch twice at once (see settle_notes)."""
    score = score.copy()
    for track in score.tracks:
        set_notes(track, settle_notes(_note_rows(track)))
    return score


def instrument_key(track) -> tuple[bool, int]:
    """(is drum, program): what names an instrument, and the order instruments are written in
    (melodic programs rising, drums last)."""
    return bool(track.is_drum), 0 if track.is_drum else int(track.program)


def canonical_score(score, settle: bool = True):
    """The score in the one order every tokeniser reads: one track per instrument (tracks of one
    program and the drums merged), instruments in instrument_key order, each track's notes settled
    (see settle_notes; only sorted when `settle` is false) and in note_order. Simultaneous notes
    then always come out in one order, whatever order the file wrote them in, so tokens -> MIDI ->
    tokens is the identity."""
    symusic = _symusic()
    merged: dict[tuple[bool, int], list] = {}
    for track in score.tracks:
        if len(track.notes):
            merged.setdefault(instrument_key(track), []).append(track)
    out = symusic.Score(score.tpq)
    for attribute in ("tempos", "time_signatures", "key_signatures", "markers"):
        getattr(out, attribute).extend(list(getattr(score, attribute)))
    for drum, program in sorted(merged):
        tracks = merged[(drum, program)]
        track = symusic.Track(tracks[0].name if len(tracks) == 1 else f"program {program}", program, drum)
        for source in tracks:
            track.controls.extend(list(source.controls))
            track.pitch_bends.extend(list(source.pitch_bends))
            track.pedals.extend(list(source.pedals))
        rows = [row for source in tracks for row in _note_rows(source)]
        set_notes(track, settle_notes(rows) if settle else sorted(rows, key=note_order))
        out.tracks.append(track)
    return out


def in_note_order(score):
    """A copy with its tracks in instrument_key order and each track's notes in note_order (nothing
    merged or dropped)."""
    score = score.copy()
    tracks = sorted(score.tracks, key=instrument_key)
    score.tracks.clear()
    for track in tracks:
        set_notes(track, sorted(_note_rows(track), key=note_order))
        score.tracks.append(track)
    return score


def sustained(score):
    """A copy with the sustain pedal (CC64) written into the notes, as Performance RNN reads it: a note
    released while its track's pedal is down ends when the pedal is lifted (or when the same pitch is
    struck again, whichever comes first)."""
    score = score.copy()
    for track in score.tracks:
        pedals = sorted((p.time, p.time + p.duration) for p in track.pedals)
        if not pedals or track.is_drum:
            continue
        downs = [down for down, _ in pedals]
        rows = []
        for start, end, pitch, velocity in _note_rows(track):
            i = bisect.bisect_right(downs, end) - 1          # the last pedal pressed at or before the release
            if i >= 0 and pedals[i][0] <= end < pedals[i][1]:
                end = pedals[i][1]
            rows.append((start, end, pitch, velocity))
        set_notes(track, settle_notes(rows))
    return score


def pedalled_score(piece: Piece):
    """The piece's score with the sustain pedal written into its notes (`sustained`), the pedal read
    from whichever track of the file holds it for the notes' channel."""
    score = piece.to_score()
    if piece.midi is not None and not any(len(t.pedals) for t in score.tracks):
        moved = pedals_beside_notes(piece.midi)          # symusic reads a pedal only beside its notes
        if moved is not None:
            score = _symusic().Score.from_midi(moved)
    return sustained(score)


def pedals_beside_notes(raw: bytes) -> bytes | None:
    """The file with each sustain-pedal message copied into the tracks playing notes on its channel,
    when it sits in a track that plays none there; None when there is nothing to move."""
    try:
        import io
        import mido
        midi_file = mido.MidiFile(file=io.BytesIO(raw))
    except Exception:                    # mido's readers raise many kinds; the score is then used as read
        return None
    absolute = []
    for track in midi_file.tracks:
        tick, events = 0, []
        for message in track:
            tick += message.time
            events.append((tick, message))
        absolute.append(events)
    playing = [{m.channel for _, m in events if m.type == "note_on"} for events in absolute]
    moved = False
    for index, events in enumerate(absolute):
        for tick, message in list(events):
            if message.type == "control_change" and message.control == 64 and message.channel not in playing[index]:
                for other, channels in enumerate(playing):
                    if message.channel in channels:
                        absolute[other].append((tick, message))
                        moved = True
    if not moved:
        return None
    for index, events in enumerate(absolute):
        events.sort(key=lambda e: (e[0], e[1].type == "end_of_track"))
        now, track = 0, mido.MidiTrack()
        for tick, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        midi_file.tracks[index] = track
    out = io.BytesIO()
    midi_file.save(file=out)
    return out.getvalue()


MELODIC_CHANNELS = [c for c in range(16) if c != 9]     # channel 10 (index 9) is the drums'


def playable_score(score, warn: Callable[[str], None] | None = None):
    """The score as a Standard MIDI File can play it: one track per instrument (tracks of one program
    merged), empty tracks left out, drums last. MIDI has 15 melodic channels; when more programs
    sound, the 15 with most notes keep their own and each other program's notes move to the kept
    program of the same General MIDI family (program // 8), else to the most used one; `warn`
    hears one line saying so."""
    symusic = _symusic()
    merged: dict[tuple[bool, int], list] = {}
    for track in score.tracks:
        if len(track.notes):
            merged.setdefault((track.is_drum, 0 if track.is_drum else track.program), []).append(track)
    melodic = sorted((p for drum, p in merged if not drum),
                     key=lambda p: (-sum(len(t.notes) for t in merged[(False, p)]), p))
    kept, moved = melodic[:len(MELODIC_CHANNELS)], {}
    for program in melodic[len(MELODIC_CHANNELS):]:
        family = [k for k in kept if k // 8 == program // 8]
        moved[program] = family[0] if family else kept[0]
        merged[(False, moved[program])] += merged.pop((False, program))
    if moved and warn is not None:
        warn(f"warning: {len(melodic)} melodic programs but MIDI has {len(MELODIC_CHANNELS)} melodic channels; "
             f"the least used play with another program of their family, else the most used: "
             + ", ".join(f"{p}->{t}" for p, t in sorted(moved.items())))
    out = symusic.Score(score.tpq)
    for attribute in ("tempos", "time_signatures", "key_signatures", "markers"):
        getattr(out, attribute).extend(list(getattr(score, attribute)))
    for drum, program in sorted(merged, key=lambda k: (k[0], k[1])):
        tracks = merged[(drum, program)]
        track = symusic.Track(tracks[0].name if len(tracks) == 1 else f"program {program}", program, drum)
        for source in tracks:
            track.controls.extend(list(source.controls))
            track.pitch_bends.extend(list(source.pitch_bends))
        track.sort(inplace=True)                        # controls and bends by time; notes next, in note_order
        set_notes(track, settle_notes([row for source in tracks for row in _note_rows(source)]))
        out.tracks.append(track)
    return out


def score_to_midi(score, warn: Callable[[str], None] | None = None) -> bytes:
    """Standard MIDI File bytes of playable_score(score): each instrument on its own channel, drums
    on channel 10, no empty tracks."""
    playable = playable_score(score, warn)
    raw = bytes(playable.dumps_midi())
    try:
        import mido
    except ImportError:
        return raw
    import io
    midi_file = mido.MidiFile(file=io.BytesIO(raw))
    if len(midi_file.tracks) != len(playable.tracks):
        return raw
    channels = iter(MELODIC_CHANNELS)
    for track, source in zip(midi_file.tracks, playable.tracks):
        channel = 9 if source.is_drum else next(channels)
        for i, message in enumerate(track):
            if not message.is_meta and hasattr(message, "channel"):
                track[i] = message.copy(channel=channel)
    out = io.BytesIO()
    midi_file.save(file=out)
    return out.getvalue()


def score_seconds(score) -> float:
    return float(score.to("second").end())


def score_quarters(score) -> float:
    return score.end() / score.tpq


# ---- tokenisers ------------------------------------------------------------------------------
class MidiTokenizer:
    """Piece <-> list of token strings. Subclasses set `name` and implement encode / decode_midi."""

    name = ""
    transposable = True                     # --transpose applies

    def settings(self) -> dict:
        """Everything needed to rebuild this tokeniser; saved in vocab.json."""
        return {"name": self.name}

    def fixed_vocabulary(self) -> list[str] | None:
        """All tokens the scheme can emit, when that set is known in advance."""
        return None

    def encode(self, piece: Piece) -> list[str]:
        raise NotImplementedError

    def decode_midi(self, tokens: list[str]) -> bytes:
        """A Standard MIDI File from tokens; tokens it cannot use (specials) are ignored."""
        raise NotImplementedError

    def decode(self, tokens: list[str]):
        """The score of decode_midi's file, its notes in note_order (symusic reads them by duration
        before pitch)."""
        return in_note_order(_symusic().Score.from_midi(self.decode_midi(tokens)))

    def give_back(self, piece: Piece, encoded: list[str] | None = None, qpm: float | None = None):
        """The piece as the model learns it, as a score: its tokens (`encoded`, when known) decoded."""
        return self.decode(encoded if encoded is not None else self.encode(piece))

    def save_files(self, folder: Path) -> None:
        """Files besides vocab.json the tokeniser needs (MidiTok's config)."""

    def is_event(self, token: str) -> bool:
        """True for tokens that make sound or move time (what a seed event may be)."""
        return not token.startswith("<")

    def note_pitch(self, token: str) -> int | None:
        """The MIDI pitch a token starts sounding, None for every other token (what `inspect`
        correlates units with)."""
        return None

    def is_program(self, token: str) -> bool:
        """True for tokens naming the instrument of the notes that follow (PROGRAM_k, Program_k)."""
        return False


TICKS_PER_BEAT = 480                  # the piano-roll codec's resolution


def frames_to_score(frames: np.ndarray, steps_per_beat: int, qpm: float = 120.0, program: int = 0):
    """A one-track score whose notes are the runs of consecutive active frames of each key."""
    symusic = _symusic()
    score = symusic.Score(TICKS_PER_BEAT)
    score.tempos.append(symusic.Tempo(0, qpm))
    track = symusic.Track("pianoroll", program, False)
    step = TICKS_PER_BEAT // steps_per_beat
    padded = np.vstack([np.zeros((1, KEYS), bool), np.asarray(frames, bool), np.zeros((1, KEYS), bool)])
    changes = np.diff(padded.astype(np.int8), axis=0)            # +1 at an onset, -1 after the last frame
    for key in range(KEYS):
        onsets, offsets = np.flatnonzero(changes[:, key] == 1), np.flatnonzero(changes[:, key] == -1)
        for on, off in zip(onsets, offsets):
            track.notes.append(symusic.Note(int(on) * step, int(off - on) * step, LOWEST_KEY + key, 80))
    set_notes(track, sorted(_note_rows(track), key=note_order))
    score.tracks.append(track)
    return score

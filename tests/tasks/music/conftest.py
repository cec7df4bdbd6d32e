"""Small MIDI files the music tests write themselves (mido), and a folder of them."""

from __future__ import annotations

from pathlib import Path

import pytest

mido = pytest.importorskip("mido")
pytest.importorskip("symusic")


def write_midi(path: Path, notes, ticks_per_beat: int = 480, tempo: int = 500_000, channel: int = 0,
               program: int | None = None, extra_tracks=(), midi_type: int = 1, tempo_changes=()) -> Path:
    """notes: (start tick, duration ticks, pitch, velocity). A tempo track, then one note track."""
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo, time=0)])
    last = 0
    for tick, value in sorted(tempo_changes):
        conductor.append(mido.MetaMessage("set_tempo", tempo=value, time=tick - last))
        last = tick
    events = []
    for start, duration, pitch, velocity in notes:
        events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((start + duration, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    track = mido.MidiTrack()
    if program is not None:
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    tracks = [conductor, track, *extra_tracks] if midi_type != 0 else [mido.MidiTrack(list(conductor) + list(track))]
    mido.MidiFile(type=midi_type, ticks_per_beat=ticks_per_beat, tracks=tracks).save(path)
    return path


def scale_notes(root: int = 60, count: int = 8, step: int = 240, velocity: int = 80):
    """A rising major scale with a held bass note under it: a little polyphony."""
    degrees = [0, 2, 4, 5, 7, 9, 11, 12]
    notes = [(i * step, step, root + degrees[i % 8] + 12 * (i // 8), velocity) for i in range(count)]
    return notes + [(0, count * step, root - 12, velocity - 10)]


@pytest.fixture
def midi_folder(tmp_path) -> Path:
    """Six small two-voice pieces in a folder (one in a subfolder), different keys and tempos."""
    folder = tmp_path / "midi"
    (folder / "sub").mkdir(parents=True)
    for i in range(6):
        where = folder / "sub" if i == 5 else folder
        write_midi(where / f"piece{i}.mid", scale_notes(55 + i, count=16), tempo=500_000 + 50_000 * i)
    return folder


@pytest.fixture
def make_midi():
    """write_midi(path, notes, ...) for tests that need a particular file."""
    return write_midi


@pytest.fixture
def scale():
    return scale_notes

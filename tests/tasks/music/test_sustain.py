"""The sustain pedal (CC64) read as Performance RNN reads it: a note released while the pedal is down
sounds until the pedal is lifted, or until the same pitch is struck again."""

from __future__ import annotations

import mido
import pytest

from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.tasks.music.tokenizers import make_tokenizer

NOTES = [(0, 240, 60, 80),        # released at 240 with the pedal down (120..960): held to 960 ...
         (480, 120, 64, 80),      # released at 600, held to 960
         (720, 120, 60, 80),      # ... unless C4 is struck again at 720: the first C4 ends there
         (1200, 240, 67, 80)]     # after the pedal: as written
EXPECTED_QUARTERS = [(0.0, 1.5, 60), (1.0, 2.0, 64), (1.5, 2.0, 60), (2.5, 3.0, 67)]


def pedal(channel: int = 0):
    """CC64 down at tick 120, up at 960, as (tick, message)."""
    return [(120, mido.Message("control_change", channel=channel, control=64, value=127)),
            (960, mido.Message("control_change", channel=channel, control=64, value=0))]


def timed(events):
    out, now = [], 0
    for tick, message in sorted(events, key=lambda e: e[0]):
        out.append(message.copy(time=tick - now))
        now = tick
    return out


@pytest.fixture(params=["same track", "own track"])
def pedalled(request, tmp_path, make_midi):
    """The notes above with the pedal in their own track, or in a controller track of its own."""
    if request.param == "own track":
        return read_midi_file(make_midi(tmp_path / "pedal.mid", NOTES, extra_tracks=[mido.MidiTrack(timed(pedal()))]))
    events = pedal()
    for start, duration, pitch, velocity in NOTES:
        events += [(start, mido.Message("note_on", note=pitch, velocity=velocity)),
                   (start + duration, mido.Message("note_off", note=pitch, velocity=0))]
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000)])
    mido.MidiFile(type=1, ticks_per_beat=480, tracks=[tempo, mido.MidiTrack(timed(events))]).save(tmp_path / "p.mid")
    return read_midi_file(tmp_path / "p.mid")


def quarters(score):
    score = score.to("quarter")
    to_16th = lambda x: round(x * 4) / 4        # noqa: E731  performance keeps time in 10 ms steps
    return sorted((to_16th(n.start), to_16th(n.end), n.pitch) for t in score.tracks for n in t.notes)


@pytest.mark.parametrize("name", ["performance", "smf-events", "remi", "tsd"])
def test_notes_released_under_the_pedal_sound_until_it_is_lifted(name, pedalled):
    tokenizer = make_tokenizer({"name": name})
    assert quarters(tokenizer.decode(tokenizer.encode(pedalled))) == EXPECTED_QUARTERS


def test_without_pedal_notes_end_where_written(tmp_path, make_midi):
    piece = read_midi_file(make_midi(tmp_path / "plain.mid", NOTES))
    tokenizer = make_tokenizer({"name": "performance"})
    assert quarters(tokenizer.decode(tokenizer.encode(piece))) == [(0.0, 0.5, 60), (1.0, 1.25, 64),
                                                                   (1.5, 1.75, 60), (2.5, 3.0, 67)]


def test_drums_ignore_the_pedal(tmp_path, make_midi):
    piece = read_midi_file(make_midi(tmp_path / "drums.mid", [(0, 240, 36, 100)], channel=9,
                                     extra_tracks=[mido.MidiTrack(timed(pedal(channel=9)))]))
    tokenizer = make_tokenizer({"name": "performance"})
    assert quarters(tokenizer.decode(tokenizer.encode(piece))) == [(0.0, 0.5, 36)]

"""Every MIDI tokeniser: tokens -> MIDI -> tokens is the identity, and MIDI -> tokens keeps the notes."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from rnnlab.tasks.music.midi import Piece, read_midi_file
from rnnlab.tasks.music.tokenizers import make_tokenizer
from rnnlab.tasks.pianoroll.codec import PianorollCodec
from rnnlab.tasks.music.frames import score_to_frames
from rnnlab.tasks.music.midi import frames_to_score
from rnnlab.tasks.music.smf_events import parse_vlq_hex, vlq_hex
from rnnlab.errors import RnnlabError

EVENT_TOKENIZERS = ["smf-events", "performance", "remi", "tsd"]


def notes_of(score, unit: str):
    score = score.to(unit)
    return sorted((round(n.start, 3), round(n.end, 3), n.pitch) for t in score.tracks for n in t.notes)


@pytest.fixture
def two_instruments(tmp_path, make_midi, scale):
    """Piano melody over a held bass, a cello track and a drum track: 3 instruments in one file."""
    cello = mido.MidiTrack([mido.Message("program_change", channel=1, program=42, time=0),
                            mido.Message("note_on", channel=1, note=48, velocity=70, time=0),
                            mido.Message("note_off", channel=1, note=48, velocity=0, time=960)])
    drums = mido.MidiTrack([mido.Message("note_on", channel=9, note=36, velocity=110, time=0),
                            mido.Message("note_off", channel=9, note=36, velocity=0, time=240),
                            mido.Message("note_on", channel=9, note=38, velocity=100, time=240),
                            mido.Message("note_off", channel=9, note=38, velocity=0, time=240)])
    return read_midi_file(make_midi(tmp_path / "band.mid", scale(60, count=8), extra_tracks=[cello, drums]))


@pytest.mark.parametrize("name", EVENT_TOKENIZERS)
def test_tokens_midi_tokens_is_identity(name, two_instruments):
    tokenizer = make_tokenizer({"name": name})
    tokens = tokenizer.encode(two_instruments)
    assert len(tokens) > 10
    again = tokenizer.encode(Piece("again", midi=tokenizer.decode_midi(tokens)))
    assert again == tokens


@pytest.mark.parametrize("name, unit", [("performance", "second"), ("remi", "quarter"), ("tsd", "quarter")])
def test_notes_survive_the_round_trip(name, unit, two_instruments):
    """Performance keeps time in 10 ms steps; REMI/TSD in beats (their tempo is quantised)."""
    tokenizer = make_tokenizer({"name": name})
    back = tokenizer.decode(tokenizer.encode(two_instruments))
    assert notes_of(back, unit) == notes_of(two_instruments.score, unit)


def test_smf_events_words_are_the_seeds(tmp_path, make_midi):
    """Seed: DELTA_STATUS_DATA in hex, one track, note events only: 00_90_3c64 and so on."""
    piece = read_midi_file(make_midi(tmp_path / "a.mid", [(0, 480, 60, 100), (480, 200, 64, 90)]))
    words = make_tokenizer({"name": "smf-events"}).encode(piece)
    assert words == ["00_90_3c64", "8360_80_3c00", "00_90_405a", "8148_80_4000"]


def test_smf_events_normalises_resolution_and_tempo(tmp_path, make_midi):
    """A 96-tpq file at 60 bpm: one beat = 1 s = 960 ticks of the 480-tpq, 120-bpm base."""
    piece = read_midi_file(make_midi(tmp_path / "slow.mid", [(0, 96, 60, 100)], ticks_per_beat=96, tempo=1_000_000))
    assert make_tokenizer({"name": "smf-events"}).encode(piece) == ["00_90_3c64", f"{vlq_hex(960)}_80_3c00"]


def test_smf_events_ignores_words_it_cannot_play():
    tokenizer = make_tokenizer({"name": "smf-events"})
    midi = tokenizer.decode_midi(["<eos>", "00_90_3c64", "zz_90_3c64", "00_b0_0764", "8360_80_3c00", "<unk>"])
    assert make_tokenizer({"name": "smf-events"}).encode(Piece("x", midi=midi)) == ["00_90_3c64", "8360_80_3c00"]


@pytest.mark.parametrize("value", [0, 1, 127, 128, 200, 16383, 16384, 0x0FFFFFFF])
def test_vlq_round_trip(value):
    assert parse_vlq_hex(vlq_hex(value)) == value


def test_performance_tokens_name_instruments_and_drums(two_instruments):
    tokens = make_tokenizer({"name": "performance"}).encode(two_instruments)
    assert {"PROGRAM_0", "PROGRAM_42", "PROGRAM_DRUM"} <= set(tokens)
    assert tokens[:3] == ["PROGRAM_0", "VELOCITY_17", "NOTE_ON_48"]      # the bass first: velocity 70 -> bin 17
    back = make_tokenizer({"name": "performance"}).decode(tokens)
    assert sorted((t.program, t.is_drum) for t in back.tracks) == [(0, False), (0, True), (42, False)]


def test_performance_long_rest_uses_several_time_shifts(tmp_path, make_midi):
    piece = read_midi_file(make_midi(tmp_path / "rest.mid", [(0, 240, 60, 80), (960 * 3 + 480, 240, 62, 80)]))
    tokens = make_tokenizer({"name": "performance"}).encode(piece)
    shifts = [t for t in tokens if t.startswith("TIME_SHIFT")]
    assert shifts == ["TIME_SHIFT_25", "TIME_SHIFT_100", "TIME_SHIFT_100", "TIME_SHIFT_100", "TIME_SHIFT_25", "TIME_SHIFT_25"]


def test_performance_vocabulary_is_fixed_and_covers_its_tokens(two_instruments):
    tokenizer = make_tokenizer({"name": "performance"})
    vocabulary = set(tokenizer.fixed_vocabulary())
    assert len(vocabulary) == 128 + 128 + 100 + 32 + 129
    assert set(tokenizer.encode(two_instruments)) <= vocabulary


def test_miditok_config_is_saved_and_reloaded(tmp_path, two_instruments):
    tokenizer = make_tokenizer({"name": "remi"})
    tokenizer.save_files(tmp_path)
    reloaded = make_tokenizer({"name": "remi"}, tmp_path)
    assert reloaded.fixed_vocabulary() == tokenizer.fixed_vocabulary()
    assert reloaded.encode(two_instruments) == tokenizer.encode(two_instruments)
    with pytest.raises(RnnlabError, match="miditok.json: missing"):
        make_tokenizer({"name": "tsd"}, tmp_path / "elsewhere")


def test_pianoroll_frames_round_trip(two_instruments):
    codec = PianorollCodec({"steps_per_beat": 4})
    frames = codec.frames(two_instruments)
    assert frames.shape[1] == 88 and frames.dtype == bool
    assert frames[:, 36 - 21].sum() == 0                   # the drums are left out
    assert frames[0, 48 - 21] and frames[0, 60 - 21]      # cello and piano sound at once
    again = codec.frames(Piece("again", midi=codec.decode_midi(frames)))
    np.testing.assert_array_equal(again, frames)


def test_pianoroll_held_frames_become_one_note():
    frames = np.zeros((6, 88), dtype=bool)
    frames[0:3, 39] = True        # C4 held three steps
    frames[4:6, 39] = True        # then again after a rest
    frames[1, 43] = True          # E4 for one step
    score = frames_to_score(frames, steps_per_beat=2)
    notes = sorted((n.start, n.duration, n.pitch) for n in score.tracks[0].notes)
    assert notes == [(0, 720, 60), (240, 240, 64), (960, 480, 60)]
    np.testing.assert_array_equal(score_to_frames(score, 2), frames)


def test_unknown_tokenizer():
    with pytest.raises(RnnlabError, match="unknown MIDI tokenizer 'abc'"):
        make_tokenizer({"name": "abc"})


def note_ons_by_instant(midi: bytes):
    """(channel, pitch, tick) -> how many note-ons a MIDI file starts there."""
    from collections import Counter
    import io
    counts, midi_file = Counter(), mido.MidiFile(file=io.BytesIO(midi))
    for track in midi_file.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                counts[(message.channel, message.note, tick)] += 1
    return counts


def onsets(score):
    return sorted((t.program, t.is_drum, n.pitch, n.start) for t in score.tracks for n in t.notes)


STACKED = {   # 200 note-ons of one pitch at one instant, then a second note a little later and its end
    "performance": ["PROGRAM_0", "VELOCITY_20"] + ["NOTE_ON_60"] * 200 + ["TIME_SHIFT_50", "NOTE_ON_60",
                                                                         "TIME_SHIFT_50", "NOTE_OFF_60"],
    "smf-events": ["00_90_3c50"] * 200 + ["8360_90_3c50", "8360_80_3c00"],
    "remi": ["Bar_None", "TimeSig_4/4", "Position_0", "Tempo_121.29"]
            + ["Program_0", "Pitch_60", "Velocity_79", "Duration_1.0.8"] * 200,
    "tsd": ["TimeSig_4/4", "Tempo_121.29"] + ["Program_0", "Pitch_60", "Velocity_79", "Duration_1.0.8"] * 200,
}


@pytest.mark.parametrize("name", EVENT_TOKENIZERS)
def test_decoders_never_stack_one_pitch_at_one_instant(name):
    """FluidSynth never finishes a file holding 128+ note-ons of one pitch at one instant: decoding keeps one."""
    tokenizer = make_tokenizer({"name": name})
    score = tokenizer.decode(STACKED[name])
    notes = onsets(score)
    assert len(notes) == len(set(notes)) and 1 <= len(notes) <= 2
    assert notes[0][2:] == (60, 0)
    assert max(note_ons_by_instant(tokenizer.decode_midi(STACKED[name])).values()) == 1


def test_performance_note_on_of_a_sounding_pitch_ends_it_first():
    tokens = ["PROGRAM_0", "NOTE_ON_60", "TIME_SHIFT_30", "NOTE_ON_60", "TIME_SHIFT_20", "NOTE_OFF_60",
              "NOTE_OFF_60", "TIME_SHIFT_10", "NOTE_OFF_64"]
    notes = make_tokenizer({"name": "performance"}).notes(tokens)
    assert sorted(n[:3] for n in notes[0]) == [(0, 30, 60), (30, 50, 60)]


def test_smf_events_note_on_of_a_sounding_pitch_ends_it_first():
    tokenizer = make_tokenizer({"name": "smf-events"})
    # on at 0, on again at 480 (no off between), off at 960: two notes, one after the other
    score = tokenizer.decode(["00_90_3c50", f"{vlq_hex(480)}_90_3c50", f"{vlq_hex(480)}_80_3c00"])
    assert sorted((n.start, n.end, n.pitch) for n in score.tracks[0].notes) == [(0, 480, 60), (480, 960, 60)]


def test_performance_encoding_of_overlapping_repeats_round_trips(tmp_path):
    """A file that strikes a sounding pitch again encodes as note-off then note-on, so tokens survive MIDI."""
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=80, time=0),
                            mido.Message("note_on", note=60, velocity=80, time=0),
                            mido.Message("note_on", note=60, velocity=80, time=480),
                            mido.Message("note_off", note=60, velocity=0, time=480),
                            mido.Message("note_off", note=60, velocity=0, time=0),
                            mido.Message("note_off", note=60, velocity=0, time=0)])
    mido.MidiFile(type=0, tracks=[track]).save(tmp_path / "repeats.mid")
    tokenizer = make_tokenizer({"name": "performance"})
    tokens = tokenizer.encode(read_midi_file(tmp_path / "repeats.mid"))
    assert tokens.count("NOTE_ON_60") == 2 and tokens.count("NOTE_OFF_60") == 2
    assert tokenizer.encode(Piece("again", midi=tokenizer.decode_midi(tokens))) == tokens


def test_pianoroll_frames_give_one_note_per_key_and_onset():
    frames = np.zeros((200, 88), dtype=bool)
    frames[:, 39] = True
    frames[::7, 40] = True
    score = frames_to_score(frames, steps_per_beat=4)
    notes = onsets(score)
    assert len(notes) == len(set(notes))
    assert [n[2:] for n in notes if n[2] == 60] == [(60, 0)]

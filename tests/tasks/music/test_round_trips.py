"""Round trips on multitrack files: several tracks and programs, chords, a drum track.

For each event tokeniser, tokens -> MIDI -> tokens gives the same tokens and the same notes, in
the same (canonical) order; the tokens do not depend on the order a file writes its tracks or the
notes of a chord in; notes on the schemes' grid come back as they went in.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import mido
import pytest

from rnnlab.tasks.music.midi import Piece, read_midi_file
from rnnlab.tasks.music.tokenizers import make_tokenizer
from tests.tasks.music.conftest import write_midi

EVENT_TOKENIZERS = ["smf-events", "performance", "remi", "tsd"]


def note_track(channel: int, program: int | None, notes, reverse_chords: bool = False) -> mido.MidiTrack:
    """A track of (start, duration, pitch, velocity) notes; chords written highest pitch first when
    `reverse_chords`, else lowest first."""
    events = []
    for start, duration, pitch, velocity in notes:
        events.append((start, 1, pitch, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((start + duration, 0, pitch, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1], -e[2] if reverse_chords else e[2]))
    track = mido.MidiTrack()
    if program is not None:
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    now = 0
    for tick, _, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def random_part(rng: random.Random, pitches: list[int], count: int, grid: int, chords: bool = True):
    """`count` onsets on a grid of `grid` ticks, each a chord of 1-3 pitches (1 when not `chords`);
    a pitch is struck only when it is silent, so the part is what any decoder writes back."""
    notes, busy, now = [], {}, 0
    for i in range(count):
        now += rng.choice([0, 1, 2, 4]) * grid if i else 0
        free = [p for p in pitches if busy.get(p, 0) <= now]
        for pitch in rng.sample(free, min(rng.choice([1, 2, 3]) if chords else 1, len(free))):
            duration = rng.choice([1, 2, 4, 8]) * grid
            busy[pitch] = now + duration
            notes.append((now, duration, pitch, rng.randint(40, 120)))
    return notes


def band(seed: int, reverse: bool = False, grid: int = 120):
    """Parts of a band: piano (two tracks of program 0), strings, bass, and drums; (channel, program, notes)."""
    rng = random.Random(seed)
    return [(0, 0, random_part(rng, list(range(60, 80)), 24, grid)),
            (0, 0, random_part(rng, list(range(48, 60)), 12, grid)),
            (1, 48, random_part(rng, list(range(55, 75)), 16, grid)),
            (2, 33, random_part(rng, list(range(28, 44)), 16, grid, chords=False)),
            (9, None, random_part(rng, [36, 38, 42, 46, 49], 24, grid))]


def write_band(path, parts, reverse: bool = False):
    """The parts as a type-1 file: the melody track through write_midi, the rest as extra tracks, in
    reverse order and with chords written top down when `reverse`."""
    extra = [note_track(channel, program, notes, reverse) for channel, program, notes in parts[1:]]
    channel, program, notes = parts[0]
    return write_midi(path, notes, channel=channel, program=program,
                      extra_tracks=list(reversed(extra)) if reverse else extra)


def notes_by_instrument(score, unit: str = "tick", ordered: bool = True):
    """(is drum, program) -> its notes (start, end, pitch), in the score's order or as a multiset."""
    found = defaultdict(list)
    for track in score.to(unit).tracks:
        key = (bool(track.is_drum), 0 if track.is_drum else int(track.program))
        found[key] += [(round(n.start, 4), round(n.end, 4), n.pitch) for n in track.notes]
    return {key: (notes if ordered else Counter(notes)) for key, notes in found.items()}


@pytest.fixture(params=range(3))
def band_file(request, tmp_path):
    return read_midi_file(write_band(tmp_path / f"band{request.param}.mid", band(request.param), reverse=True))


@pytest.mark.parametrize("name", EVENT_TOKENIZERS)
def test_tokens_and_notes_survive_midi(name, band_file):
    tokenizer = make_tokenizer({"name": name})
    tokens = tokenizer.encode(band_file)
    assert len(tokens) > 50
    midi = tokenizer.decode_midi(tokens)
    again = tokenizer.encode(Piece("again", midi=midi))
    assert again == tokens
    first, second = tokenizer.decode(tokens), tokenizer.decode(again)
    if name != "smf-events":                          # smf-events keeps one track: no instruments to count
        assert len(notes_by_instrument(first)) == 5 - 1   # the two piano tracks are one instrument
    assert notes_by_instrument(first) == notes_by_instrument(second)      # the same notes, in the same order
    assert tokenizer.decode_midi(again) == midi


@pytest.mark.parametrize("name", EVENT_TOKENIZERS)
def test_tokens_do_not_depend_on_the_order_a_file_writes_its_notes(name, tmp_path):
    """The same notes, tracks and chords written in two orders, give the same tokens."""
    parts = band(7)
    if name == "smf-events":                          # one track: the busiest; write the chords both ways
        parts = [(0, 0, parts[0][2] + parts[1][2])]
    one = read_midi_file(write_band(tmp_path / "one.mid", parts))
    other = read_midi_file(write_band(tmp_path / "other.mid", parts, reverse=True))
    tokenizer = make_tokenizer({"name": name})
    assert tokenizer.encode(one) == tokenizer.encode(other)


@pytest.mark.parametrize("name, unit", [("performance", "second"), ("remi", "quarter"), ("tsd", "quarter")])
def test_notes_on_the_grid_come_back_per_instrument(name, unit, tmp_path):
    """Eighth notes at 120 bpm are on every scheme's grid (10 ms steps; MidiTok's 8 per beat): each
    instrument gets back exactly the notes it played (as a multiset: simultaneous notes in any order)."""
    piece = read_midi_file(write_band(tmp_path / "grid.mid", band(3, grid=240), reverse=True))
    tokenizer = make_tokenizer({"name": name})
    back = tokenizer.decode(tokenizer.encode(piece))
    assert notes_by_instrument(back, unit, ordered=False) == notes_by_instrument(piece.score, unit, ordered=False)


def test_smf_events_keeps_the_busiest_tracks_notes(tmp_path):
    parts = band(5, grid=240)
    piece = read_midi_file(write_band(tmp_path / "smf.mid", parts))
    tokenizer = make_tokenizer({"name": "smf-events"})
    back = tokenizer.decode(tokenizer.encode(piece))
    busiest = max(piece.score.tracks, key=lambda t: len(t.notes))
    assert Counter((n.start, n.end, n.pitch) for n in busiest.notes) == \
        Counter((n.start, n.end, n.pitch) for t in back.tracks for n in t.notes)


@pytest.mark.parametrize("name", EVENT_TOKENIZERS)
def test_off_grid_restruck_notes_round_trip(name, tmp_path):
    """Notes off every grid, a pitch struck again while it sounds, two notes of one pitch at one
    instant: what the tokens hold is what decoding writes, so tokens -> MIDI -> tokens is the identity."""
    rng = random.Random(11)
    notes = [(rng.randint(0, 4000), rng.randint(1, 900), rng.choice([60, 62, 64, 65, 67]), rng.randint(30, 120))
             for _ in range(60)]
    notes += [(1000, 300, 60, 90), (1000, 500, 60, 70)]
    drums = note_track(9, None, [(rng.randint(0, 4000), 50, rng.choice([36, 38]), 100) for _ in range(20)])
    piece = read_midi_file(write_midi(tmp_path / "rough.mid", notes, extra_tracks=[drums]))
    tokenizer = make_tokenizer({"name": name})
    tokens = tokenizer.encode(piece)
    again = tokenizer.encode(Piece("again", midi=tokenizer.decode_midi(tokens)))
    assert again == tokens
    assert notes_by_instrument(tokenizer.decode(tokens)) == notes_by_instrument(tokenizer.decode(again))


@pytest.mark.parametrize("name", EVENT_TOKENIZERS)
def test_decoded_notes_are_in_canonical_order(name, band_file):
    """Every decoder writes each instrument's notes by onset, then pitch; instruments by program, drums last."""
    tokenizer = make_tokenizer({"name": name})
    score = tokenizer.decode(tokenizer.encode(band_file))
    keys = [(bool(t.is_drum), 0 if t.is_drum else int(t.program)) for t in score.tracks]
    assert keys == sorted(keys)
    for track in score.tracks:
        rows = [(n.start, n.pitch, n.end) for n in track.notes]
        assert rows == sorted(rows) and len(rows) > 0

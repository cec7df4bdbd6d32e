"""Instruments: each program on its own MIDI channel, drums on channel 10, no empty tracks, and
generation never samples an instrument the training music does not hold."""

from __future__ import annotations

import io
import json
from collections import Counter

import mido
import symusic

from rnnlab.cli import main
from rnnlab.data.tokenize import Vocabulary
from rnnlab.tasks.music.compose import unseen_programs
from rnnlab.tasks.music.midi import MELODIC_CHANNELS, read_midi_file, score_to_midi
from rnnlab.tasks.music.tokenizers import make_tokenizer

TINY = ["--epochs", "1", "--batch-size", "2", "--bptt", "8", "--hidden", "16", "--layers", "1", "--threads", "1"]


def channel_programs(midi: bytes) -> list[tuple[set, set, int]]:
    """Per track of the file: (channels its messages use, programs it sets, note-ons)."""
    out = []
    for track in mido.MidiFile(file=io.BytesIO(midi)).tracks:
        channels = {m.channel for m in track if not m.is_meta and hasattr(m, "channel")}
        programs = {m.program for m in track if m.type == "program_change"}
        out.append((channels, programs, sum(m.type == "note_on" and m.velocity > 0 for m in track)))
    return out


def score_with(programs: dict, drums: int = 0, empty=()):
    """A score: program -> how many notes (each a track), a drum track of `drums` notes, empty tracks."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    for program, count in programs.items():
        track = symusic.Track(f"p{program}", program, False)
        for i in range(count):
            track.notes.append(symusic.Note(i * 120, 120, 40 + program % 60, 80))
        score.tracks.append(track)
    for program in empty:
        score.tracks.append(symusic.Track(f"empty{program}", program, False))
    if drums:
        track = symusic.Track("drums", 0, True)
        for i in range(drums):
            track.notes.append(symusic.Note(i * 240, 60, 36, 100))
        score.tracks.append(track)
    return score


def test_each_program_gets_its_own_channel_and_drums_channel_10():
    score = score_with({0: 4, 42: 3, 73: 2}, drums=4, empty=(5, 6))
    score.tracks.append(symusic.Track("more piano", 0, False))
    score.tracks[-1].notes.append(symusic.Note(960, 240, 72, 90))            # a second piano track: merged
    tracks = [t for t in channel_programs(score_to_midi(score)) if t[0]]
    assert all(notes > 0 for _, _, notes in tracks)                          # no empty tracks
    assert sorted(notes for _, _, notes in tracks) == [2, 3, 4, 5]
    assert all(len(channels) == 1 for channels, _, _ in tracks)
    drums = [channels for channels, _, notes in tracks if notes == 4 and channels == {9}]
    assert len(drums) == 1
    melodic = [(channels.pop(), programs) for channels, programs, notes in tracks if notes != 4]
    assert len({c for c, _ in melodic}) == 3 and 9 not in {c for c, _ in melodic}
    assert sorted(p for _, programs in melodic for p in programs) == [0, 42, 73]


def test_more_than_15_programs_share_channels_by_rule_with_one_warning():
    counts = {program: 30 - program for program in range(20)}                # program 19 is the least used
    lines = []
    midi = score_to_midi(score_with(counts, drums=3), lines.append)
    tracks = [t for t in channel_programs(midi) if t[0]]
    channels = [c for chans, _, _ in tracks for c in chans]
    assert len(channels) == len(set(channels)) == 16 and 9 in channels        # one channel each, drums included
    kept = sorted(p for chans, programs, _ in tracks if chans != {9} for p in programs)
    assert kept == list(range(15))                                          # the 15 most used keep theirs
    assert sum(notes for _, _, notes in tracks) == sum(counts.values()) + 3  # no note is lost
    assert len(lines) == 1 and lines[0].startswith("warning: 20 melodic programs but MIDI has 15 melodic channels")
    assert lines[0].endswith(": 15->8, 16->0, 17->0, 18->0, 19->0")       # its family (8..15), else the most used
    assert len(MELODIC_CHANNELS) == 15


def test_performance_decoding_writes_one_channel_per_program():
    tokens = ["PROGRAM_0", "NOTE_ON_60", "PROGRAM_42", "NOTE_ON_48", "PROGRAM_DRUM", "NOTE_ON_36",
              "PROGRAM_7", "NOTE_OFF_50", "TIME_SHIFT_50", "PROGRAM_0", "NOTE_OFF_60", "PROGRAM_42", "NOTE_OFF_48",
              "PROGRAM_DRUM", "NOTE_OFF_36"]
    tracks = channel_programs(make_tokenizer({"name": "performance"}).decode_midi(tokens))
    used = [(channels, programs) for channels, programs, notes in tracks if notes]
    assert len(used) == len([t for t in tracks if t[0]]) == 3                # program 7 had no note: no track
    assert {9} in [c for c, _ in used]
    assert len({frozenset(c) for c, _ in used}) == 3


def test_unseen_program_tokens_are_masked():
    tokenizer = make_tokenizer({"name": "performance"})
    vocab = Vocabulary(["<unk>", "<eos>", "NOTE_ON_60", "PROGRAM_0", "PROGRAM_42", "PROGRAM_DRUM", "TIME_SHIFT_1"])
    assert unseen_programs(tokenizer, vocab, ["PROGRAM_0"]) == [4, 5]
    assert unseen_programs(tokenizer, vocab, ["PROGRAM_0", "PROGRAM_DRUM", "PROGRAM_42"]) == []
    assert unseen_programs(tokenizer, vocab, None) == []                    # a run that did not record them
    remi = make_tokenizer({"name": "remi"})
    assert remi.is_program("Program_0") and not remi.is_program("Pitch_60")


def test_generation_uses_only_the_training_programs(tmp_path, midi_folder, capsys):
    out = tmp_path / "run"
    assert main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", "performance", "--out", str(out),
                 *TINY]) == 0
    assert json.loads((out / "vocab.json").read_text())["training_programs"] == ["PROGRAM_0"]
    programs = Counter()
    for seed in range(3):
        song = tmp_path / f"song{seed}.mid"
        assert main(["generate", str(out), "--out", str(song), "--seconds", "4", "--seed", str(seed)]) == 0
        for track in read_midi_file(song).score.tracks:
            programs[(track.program, track.is_drum)] += len(track.notes)
    assert set(programs) == {(0, False)} and programs[(0, False)] > 0

"""Composition details: the cut at the requested length, the first frames of a piano roll, the tempo."""

from __future__ import annotations

import json

import pytest
import symusic

from rnnlab.cli import main
from rnnlab.tasks.music.compose import Length, clip_to
from rnnlab.tasks.music.frames import score_to_frames
from rnnlab.tasks.music.midi import read_midi_file, score_seconds


def test_notes_running_past_the_end_are_shortened_not_dropped():
    score = symusic.Score(500)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track("piano", 0, False)
    track.notes.append(symusic.Note(0, 9000, 60, 80))        # held far past the end (1000 ticks a second)
    track.notes.append(symusic.Note(1000, 500, 64, 80))
    track.notes.append(symusic.Note(5000, 500, 67, 80))      # starts after the end
    score.tracks.append(track)
    clipped = clip_to(score, 0.0, 0.0, Length(seconds=4))
    assert sorted((n.start, n.end, n.pitch) for n in clipped.tracks[0].notes) == [(0, 4000, 60), (1000, 1500, 64)]


TINY = ["--batch-size", "2", "--bptt", "8", "--hidden", "16", "--layers", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def roll_run(tmp_path_factory):
    """A tiny piano-roll model that has learnt the two voices of its files (a high learning rate), on
    files played at 90 bpm."""
    from tests.tasks.music.conftest import scale_notes, write_midi

    root = tmp_path_factory.mktemp("roll")
    (root / "midi").mkdir()
    for i in range(6):
        write_midi(root / "midi" / f"piece{i}.mid", scale_notes(55 + i, count=16), tempo=666_667)
    assert main(["train", str(root / "midi"), "--modality", "midi", "--tokenizer", "pianoroll", "--steps-per-beat",
                 "2", "--out", str(root / "run"), "--epochs", "20", "--lr", "0.05", *TINY]) == 0
    return root / "run"


def test_pianoroll_without_primer_opens_like_the_training_pieces(roll_run, tmp_path):
    saved = json.loads((roll_run / "vocab.json").read_text())
    assert saved["opening_keys"] == saved["most_keys"] == 2             # two voices throughout
    for seed in range(3):
        song = tmp_path / f"song{seed}.mid"
        assert main(["generate", str(roll_run), "--out", str(song), "--bars", "2", "--seed", str(seed)]) == 0
        keys = score_to_frames(read_midi_file(song).score, 2).sum(axis=1)
        assert 1 <= keys[0] <= 2                                          # no cluster, and not silent
        assert keys.max() <= 2                                            # never more than a training frame


def test_pianoroll_songs_take_the_corpus_tempo(roll_run, tmp_path):
    assert json.loads((roll_run / "vocab.json").read_text())["qpm"] == 90.0
    for prime in ([], ["--prime", "48,60,64"]):
        song = tmp_path / "song.mid"
        assert main(["generate", str(roll_run), "--out", str(song), "--bars", "2", "--seed", "0", *prime]) == 0
        score = read_midi_file(song).score
        assert [round(t.qpm) for t in score.tempos] == [90]
        primer_frames = 1 if prime else 0                    # the primer's chord, then 2 bars of new frames
        assert score_seconds(score) <= (2 * 4 + primer_frames / 2) * 60 / 90 + 0.01

"""Musical statistics: hand-computed values on tiny scores, MusPy's values where MusPy is installed,
and a tiny run's music_stats.json and generate's song.json."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import symusic

from rnnlab.cli import main
from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.tasks.music.stats import STATS_FILE, comparison_line, corpus_stats, piece_stats
from tests.tasks.music.test_commands import TINY


def score_of(tracks, tpq: int = 480, qpm: float = 120.0):
    """tracks: (program, is_drum, [(start, duration, pitch)]) -> a symusic Score."""
    score = symusic.Score(tpq)
    score.tempos.append(symusic.Tempo(0, qpm))
    for program, drum, notes in tracks:
        track = symusic.Track("", program, drum)
        for start, duration, pitch in notes:
            track.notes.append(symusic.Note(start, duration, pitch, 80))
        score.tracks.append(track)
    return score


def test_a_held_triad():
    """C E G held for two seconds (four beats at 120 bpm), then silence: all measures by hand."""
    stats = piece_stats(score_of([(0, False, [(0, 1920, 60), (0, 1920, 64), (0, 1920, 67)])]))
    assert stats["notes"] == 3 and stats["seconds"] == 2.0 and stats["note_density"] == 1.5
    assert stats["polyphony"] == 3.0 and stats["scale_consistency"] == 1.0 and stats["pitch_range"] == 7
    assert stats["pitch_class_entropy"] == round(math.log2(3), 4)
    assert stats["pitch_class_histogram"]["C"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["pitch_class_histogram"]["C#"] == 0


def test_polyphony_weighs_time_and_counts_a_pitch_once():
    """60 sounds 0-4 beats in two tracks (one pitch), 64 only 0-1: (2*1 + 1*3) / 4 beats = 1.25;
    a drum hit is left out of the pitch measures but counted as a note."""
    stats = piece_stats(score_of([(0, False, [(0, 1920, 60), (0, 480, 64)]), (40, False, [(0, 1920, 60)]),
                                  (0, True, [(0, 100, 36)])]))
    assert stats["polyphony"] == 1.25
    assert stats["notes"] == 4 and stats["note_density"] == 2.0
    assert stats["pitch_range"] == 4 and sum(stats["pitch_class_histogram"].values()) == pytest.approx(1)


def test_scale_consistency_of_a_chromatic_line():
    """All 12 pitch classes once: the best scale holds 7 of them; the entropy is log2 12."""
    stats = piece_stats(score_of([(0, False, [(i * 240, 240, 60 + i) for i in range(12)])]))
    assert stats["scale_consistency"] == round(7 / 12, 4)
    assert stats["pitch_class_entropy"] == round(math.log2(12), 4) and stats["polyphony"] == 1.0


def test_drums_only_have_no_pitch_measures():
    stats = piece_stats(score_of([(0, True, [(0, 240, 36), (240, 240, 38)])]))
    assert stats["notes"] == 2 and stats["note_density"] > 0
    assert stats["polyphony"] is None and stats["scale_consistency"] is None
    assert stats["pitch_class_histogram"] is None


def test_corpus_means_and_percentiles():
    scores = [score_of([(0, False, [(0, 480, 60 + i)] * 1 + [(0, 480, 64 + i)][: i % 2])]) for i in range(10)]
    stats = corpus_stats(scores)
    assert stats["pieces"] == 10 and stats["notes"] == 15
    assert stats["polyphony"]["mean"] == 1.5 and stats["polyphony"]["p10"] == 1.0 and stats["polyphony"]["p90"] == 2.0
    line = comparison_line(piece_stats(scores[1]), stats)
    assert line.startswith("song: notes/s 4.00 (training 3.00, 2.00-4.00), polyphony 2.00 (training 1.50")
    assert "absent" in comparison_line(piece_stats(scores[1]), None)


def test_measures_agree_with_muspy(tmp_path, make_midi):
    muspy = pytest.importorskip("muspy")
    import mido
    strings = mido.MidiTrack([mido.Message("program_change", channel=1, program=48, time=0),
                              mido.Message("note_on", channel=1, note=61, velocity=70, time=100),
                              mido.Message("note_on", channel=1, note=66, velocity=70, time=0),
                              mido.Message("note_off", channel=1, note=61, velocity=0, time=900),
                              mido.Message("note_off", channel=1, note=66, velocity=0, time=333)])
    path = make_midi(tmp_path / "a.mid", [(0, 480, 60, 80), (240, 960, 64, 80), (480, 240, 67, 80),
                                          (1200, 480, 70, 80)], extra_tracks=[strings])
    music, ours = muspy.read_midi(path), piece_stats(symusic.Score(path))
    assert ours["pitch_class_entropy"] == pytest.approx(muspy.pitch_class_entropy(music), abs=1e-4)
    assert ours["polyphony"] == pytest.approx(muspy.polyphony(music), abs=1e-4)
    assert ours["scale_consistency"] == pytest.approx(muspy.scale_consistency(music), abs=1e-4)
    assert ours["pitch_range"] == muspy.pitch_range(music)


@pytest.mark.parametrize("tokenizer", ["performance", "pianoroll"])
def test_a_run_saves_its_training_stats_and_generate_sets_the_song_beside_them(tokenizer, tmp_path, midi_folder,
                                                                               capsys):
    out = tmp_path / "run"
    assert main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", tokenizer, "--out", str(out),
                 *TINY]) == 0
    training = json.loads((out / STATS_FILE).read_text())
    assert training["tokenizer"] == tokenizer and training["split"] == "train"
    assert 1 <= training["pieces"] < 6                        # the training split's files, not all six
    assert training["polyphony"]["mean"] > 1.0                 # a held bass under each scale
    assert training["scale_consistency"]["mean"] == 1.0       # major scales
    assert sum(training["pitch_class_histogram"].values()) == pytest.approx(1, abs=1e-3)
    capsys.readouterr()

    song = tmp_path / "song.mid"
    assert main(["generate", str(out), "--out", str(song), "--seconds", "3", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    saved = json.loads(song.with_suffix(".json").read_text())
    assert saved["training"] == training
    written = piece_stats(read_midi_file(song).score)          # the statistics are song.mid's
    assert {k: saved["song"][k] for k in ("notes", "pitch_class_histogram", "pitch_range")} == \
        {k: written[k] for k in ("notes", "pitch_class_histogram", "pitch_range")}
    assert saved["song"]["notes"] > 0 and saved["generated_seconds"] > 0
    line = [ln for ln in printed.splitlines() if ln.startswith("song: ")]
    assert len(line) == 1 and "notes/s" in line[0] and "(training " in line[0] and "in scale" in line[0]

    (out / STATS_FILE).unlink()                  # a run trained before the statistics: read from its files once
    assert main(["generate", str(out), "--out", str(song), "--seconds", "2", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert f"no {STATS_FILE}" in captured.err and "(training " in captured.out
    assert json.loads((out / STATS_FILE).read_text()) == training
    assert json.loads(song.with_suffix(".json").read_text())["training"] == training

    (out / STATS_FILE).unlink()                  # ... and its training music gone: absent, said so
    shutil.rmtree(midi_folder)
    assert main(["generate", str(out), "--out", str(song), "--seconds", "2", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert "statistics are absent" in captured.err and "the training set's statistics: absent" in captured.out
    assert json.loads(song.with_suffix(".json").read_text())["training"] is None
    assert not (out / STATS_FILE).exists()

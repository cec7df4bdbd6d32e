"""Reading MIDI: good files, and every kind of bad one skipped with one line naming it."""

from __future__ import annotations

import mido
import pytest

from rnnlab.tasks.music.midi import midi_files_in, read_midi_file, read_midi_source, score_seconds, transposed
from rnnlab.errors import RnnlabError


def test_reads_notes_of_all_tracks(tmp_path, make_midi, scale):
    piece = read_midi_file(make_midi(tmp_path / "a.mid", scale(60, count=8)))
    assert piece.score.note_num() == 9
    assert piece.name == "a"
    assert score_seconds(piece.score) == pytest.approx(8 * 0.25)


@pytest.mark.parametrize("content, reason", [
    (b"", "no MThd header"),
    (b"hello, not midi" * 4, "no MThd header"),
])
def test_not_midi(tmp_path, content, reason):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(RnnlabError, match=f"{path}: .*{reason}"):
        read_midi_file(path)


def test_truncated_file(tmp_path, make_midi, scale):
    good = make_midi(tmp_path / "good.mid", scale(60, count=16)).read_bytes()
    path = tmp_path / "cut.mid"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(RnnlabError, match="cut.mid: corrupt or truncated MIDI"):
        read_midi_file(path)


def test_type_2_is_refused_with_reason(tmp_path, make_midi, scale):
    path = make_midi(tmp_path / "t2.mid", scale(60), midi_type=2)
    with pytest.raises(RnnlabError, match="t2.mid: MIDI format 2"):
        read_midi_file(path)


def test_no_notes(tmp_path):
    path = tmp_path / "silent.mid"
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000), mido.Message("program_change", program=3)])
    mido.MidiFile(type=1, tracks=[track]).save(path)
    with pytest.raises(RnnlabError, match="silent.mid: holds no notes"):
        read_midi_file(path)


def test_running_status_is_read(tmp_path):
    """Note-on, then two more events written with running status (no status byte), as old files do."""
    events = bytes([0x00, 0x90, 60, 100,      # note on C4
                    0x60, 60, 0,              # running status: note on C4 velocity 0 (= off) after 96 ticks
                    0x00, 64, 90,             # running status: note on E4
                    0x60, 64, 0,              # running status: off
                    0x00, 0xFF, 0x2F, 0x00])  # end of track
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + (96).to_bytes(2, "big")
    path = tmp_path / "running.mid"
    path.write_bytes(header + b"MTrk" + len(events).to_bytes(4, "big") + events)
    notes = [(n.start, n.duration, n.pitch) for n in read_midi_file(path).score.tracks[0].notes]
    assert notes == [(0, 96, 60), (96, 96, 64)]


def test_sysex_and_controllers_are_passed_over(tmp_path, make_midi, scale):
    extra = mido.MidiTrack([mido.Message("sysex", data=[0x7E, 0x7F, 0x09, 0x01], time=0),
                            mido.Message("control_change", control=7, value=100, time=10)])
    piece = read_midi_file(make_midi(tmp_path / "sysex.mid", scale(60, count=4), extra_tracks=[extra]))
    assert piece.score.note_num() == 5


def test_tempo_changes_move_notes_in_seconds(tmp_path, make_midi):
    # 120 bpm, then 60 bpm from beat 2: notes on beats 0, 1, 2, 3 sound at 0, 0.5, 1.0, 2.0 s.
    path = make_midi(tmp_path / "tempo.mid", [(480 * i, 240, 60 + i, 80) for i in range(4)],
                     tempo_changes=[(960, 1_000_000)])
    starts = sorted(n.start for t in read_midi_file(path).score.to("second").tracks for n in t.notes)
    assert starts == pytest.approx([0.0, 0.5, 1.0, 2.0])


def test_huge_delta_is_read_when_plausible_and_skipped_when_absurd(tmp_path, make_midi):
    long_rest = make_midi(tmp_path / "rest.mid", [(0, 240, 60, 80), (1 << 20, 240, 62, 80)])
    assert score_seconds(read_midi_file(long_rest).score) == pytest.approx(((1 << 20) + 240) / 960)
    absurd = make_midi(tmp_path / "absurd.mid", [(0, 240, 60, 80), (0x0FFFFFFF - 480, 240, 62, 80)])
    with pytest.raises(RnnlabError, match="absurd.mid: lasts .* hours"):
        read_midi_file(absurd)


def test_drums_on_channel_10_are_a_drum_track(tmp_path, make_midi, scale):
    path = make_midi(tmp_path / "drums.mid", [(0, 120, 36, 100), (240, 120, 38, 100)], channel=9)
    tracks = read_midi_file(path).score.tracks
    assert [t.is_drum for t in tracks] == [True]


def test_folder_skips_bad_files_and_counts_them(midi_folder):
    (midi_folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x00\x90")
    (midi_folder / "notes.txt").write_text("not midi, and not a .mid name")
    warnings = []
    report = read_midi_source(midi_folder, warnings.append)
    assert len(report.pieces) == 6                       # recursive: the subfolder's piece is there
    assert len(report.skipped) == 1 and len(warnings) == 1
    assert warnings[0].startswith(f"warning: {midi_folder / 'broken.mid'}: corrupt or truncated MIDI")
    assert warnings[0].endswith("; skipped") and "\n" not in warnings[0]


def test_folder_without_midi(tmp_path):
    (tmp_path / "readme.txt").write_text("no music here")
    with pytest.raises(RnnlabError, match="holds no MIDI files"):
        midi_files_in(tmp_path)


def test_folder_where_nothing_is_usable(tmp_path):
    (tmp_path / "a.mid").write_bytes(b"junk")
    with pytest.raises(RnnlabError, match="none of its 1 MIDI file"):
        read_midi_source(tmp_path, lambda line: None)


def test_transposition_keeps_drums_and_refuses_to_leave_the_range(tmp_path, make_midi, scale):
    piece = read_midi_file(make_midi(tmp_path / "a.mid", scale(60, count=4)))
    up = transposed(piece, 3)
    assert sorted(n.pitch for n in up.to_score().tracks[0].notes) == sorted(
        n.pitch + 3 for n in piece.score.tracks[0].notes)
    high = read_midi_file(make_midi(tmp_path / "b.mid", [(0, 240, 126, 80)]))
    assert transposed(high, 2) is None


def test_a_reader_error_without_words_still_gives_a_reason(tmp_path, make_midi, scale, monkeypatch):
    from types import SimpleNamespace

    from rnnlab.tasks.music import midi

    def silent_failure(raw):
        raise RuntimeError("MiniMidi: : iostream error")
    monkeypatch.setattr(midi, "_symusic", lambda: SimpleNamespace(Score=SimpleNamespace(from_midi=silent_failure)))
    path = make_midi(tmp_path / "quiet.mid", scale(60))
    with pytest.raises(RnnlabError) as caught:
        read_midi_file(path)
    assert str(caught.value) == f"{path}: corrupt or truncated MIDI (RuntimeError)"

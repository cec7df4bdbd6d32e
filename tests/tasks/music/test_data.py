"""Reading a folder into splits: unusable files are skipped (with a reason naming them) before the split."""

from __future__ import annotations

import pytest

from rnnlab.cli import main
from rnnlab.errors import RnnlabError
from rnnlab.config import DataConfig
from rnnlab.tasks.music.data import read_music_splits
from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.tasks.music.tokenizers import make_tokenizer
from rnnlab.tasks.pianoroll.codec import PianorollCodec

TINY = ["--epochs", "1", "--batch-size", "2", "--bptt", "8", "--hidden", "16", "--layers", "1", "--threads", "1"]


def header_says_two_tracks(path):
    """A file symusic reads but mido cannot: its header counts two tracks, it holds one."""
    raw = path.read_bytes()
    path.write_bytes(raw[:10] + (raw[11] + 1).to_bytes(2, "big") + raw[12:])
    return path


def drums_only(path, make_midi):
    return make_midi(path, [(i * 240, 120, 36 + i % 3, 100) for i in range(16)], channel=9)


def test_mido_failure_names_the_file_and_a_reason(tmp_path, make_midi, scale):
    (tmp_path / "sub").mkdir()
    path = header_says_two_tracks(make_midi(tmp_path / "sub" / "odd.mid", scale(60), midi_type=0))
    piece = read_midi_file(path)                           # symusic reads it
    with pytest.raises(RnnlabError) as caught:
        make_tokenizer({"name": "smf-events"}).encode(piece)
    message = str(caught.value)
    assert message.startswith(f"{path}: mido cannot read it (") and "()" not in message
    assert message.endswith(")") and len(message.rsplit("(", 1)[1]) > 3


def test_unusable_files_are_dropped_before_the_split(tmp_path, make_midi, scale):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i in range(4):
        make_midi(folder / f"tune{i}.mid", scale(60 + i, count=8))
    drums = [drums_only(folder / f"drums{i}.mid", make_midi) for i in range(6)]
    warnings = []
    config = DataConfig(corpus=str(folder), split="0.5,0.25,0.25")
    splits = read_music_splits(config, warnings.append, PianorollCodec({"steps_per_beat": 2}))
    names = {s: sorted(p.name for p in pieces) for s, pieces in splits.pieces.items()}
    assert sorted(sum(names.values(), [])) == [f"tune{i}" for i in range(4)]
    assert all(names[s] for s in ("train", "valid", "test"))                 # no split drew only drums
    assert splits.used() == 4 and len(splits.skipped) == 6
    assert sorted(warnings) == sorted(f"warning: {d}: no notes on the 88 piano keys (drums are left out of "
                                      "piano rolls); skipped" for d in drums)
    # the event tokenisers can use the drums: nothing skipped there
    events = read_music_splits(config, warnings.append, make_tokenizer({"name": "performance"}))
    assert events.used() == 10 and not events.skipped


def test_summary_counts_the_files_actually_used(tmp_path, make_midi, scale, capsys):
    folder = tmp_path / "tunes"
    (folder / "odd").mkdir(parents=True)
    for i in range(5):
        make_midi(folder / f"tune{i}.mid", scale(55 + i, count=16))
    for i in range(3):
        header_says_two_tracks(make_midi(folder / "odd" / f"odd{i}.mid", scale(60, count=16), midi_type=0))
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    assert main(["train", str(folder), "--modality", "midi", "--tokenizer", "smf-events",
                 "--out", str(tmp_path / "run"), *TINY]) == 0
    captured = capsys.readouterr()
    assert "5 files used, 4 skipped" in captured.out
    for i in range(3):
        assert f"warning: {folder / 'odd' / f'odd{i}.mid'}: mido cannot read it (it ends before" in captured.err
    assert "()" not in captured.err

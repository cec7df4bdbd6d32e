"""`rnnlab inspect` on music runs: MIDI-event and piano-roll models read a MIDI file in the NumPy engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.cli import main
from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.tasks.music.tokenizers import make_tokenizer
from rnnlab.tasks.registry import open_run
from rnnlab.scratch.inspection import MAX_TOKENS, event_features, frame_features, inspect_run

TINY = ["--epochs", "1", "--batch-size", "2", "--bptt", "8", "--hidden", "12", "--layers", "2", "--threads", "1"]


def test_each_tokenizer_names_the_pitch_a_token_starts():
    smf = make_tokenizer({"name": "smf-events"})
    assert smf.note_pitch("00_90_3c50") == 60
    assert smf.note_pitch("8100_91_4064") == 64
    assert smf.note_pitch("00_90_3c00") is None                  # velocity 0: a note-off
    assert smf.note_pitch("00_80_3c40") is None and smf.note_pitch("<eos>") is None
    performance = make_tokenizer({"name": "performance"})
    assert performance.note_pitch("NOTE_ON_72") == 72
    assert performance.note_pitch("NOTE_OFF_72") is None and performance.note_pitch("TIME_SHIFT_5") is None
    remi = make_tokenizer({"name": "remi"})
    assert remi.note_pitch("Pitch_55") == 55 and remi.note_pitch("Velocity_63") is None


def test_features_hold_the_pitch_and_mark_onsets():
    features = event_features([None, 60, None, None, 67, None])
    assert features["note pitch"].tolist() == [60, 60, 60, 60, 67, 67]     # before the first note: the first
    assert features["note onset"].tolist() == [0, 1, 0, 0, 1, 0]
    assert event_features([None, None])["note pitch"].tolist() == [0, 0]
    frames = np.zeros((4, 88), bool)
    frames[0, [39, 43]] = True                                   # C4 + E4
    frames[2, 46] = True                                         # G4; frame 1 and 3 are rests
    found = frame_features(frames)
    assert found["note pitch (highest)"].tolist() == [64, 64, 67, 67]
    assert found["notes sounding"].tolist() == [2, 0, 1, 0]


@pytest.fixture
def event_run(tmp_path, midi_folder, capsys):
    out = tmp_path / "events"
    assert main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", "performance",
                 "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    return out


def test_inspect_a_midi_event_run_with_a_midi_primer(event_run, midi_folder, tmp_path, capsys):
    primer = midi_folder / "piece0.mid"
    out = tmp_path / "gates.png"
    assert main(["inspect", str(event_run), "--midi", str(primer), "--out", str(out), "--top", "2"]) == 0
    printed = capsys.readouterr().out
    assert out.stat().st_size > 10_000
    assert printed.count("note pitch") == 2 and printed.count("note onset") == 2
    seen = inspect_run(event_run, midi=str(primer))
    tokens = make_tokenizer({"name": "performance"}).encode(read_midi_file(primer))
    assert len(seen.tokens) == len(tokens) and seen.layers[1]["forget"].shape == (len(tokens), 12)
    assert "G3" in seen.tokens and "NOTE_ON_55" not in seen.tokens       # note-ons labelled by name
    assert seen.features["note onset"].sum() == sum(t.startswith("NOTE_ON_") for t in tokens)


def test_the_numpy_engine_reads_an_event_run_as_pytorch_does(event_run, midi_folder):
    primer = midi_folder / "piece2.mid"
    seen = inspect_run(event_run, midi=str(primer))
    trained = open_run(event_run)
    ids = trained.vocab.encode(["<eos>"] + trained.tokenizer.encode(read_midi_file(primer)))
    with torch.no_grad():
        hidden, *_ = trained.model.hidden(torch.tensor(ids).view(-1, 1), trained.model.initial_state(1))
    np.testing.assert_allclose(seen.layers[-1]["hidden"], hidden[1:, 0].numpy(), atol=1e-5)


def test_event_tokens_typed_as_text_and_bad_inputs(event_run, tmp_path, capsys):
    out = str(tmp_path / "g.png")
    assert main(["inspect", str(event_run), "--text", "NOTE_ON_60 TIME_SHIFT_10 NOTE_OFF_60 NOTE_ON_64",
                 "--out", out]) == 0
    assert "4 tokens through 2 lstm" in capsys.readouterr().out
    assert main(["inspect", str(event_run), "--text", "hello world", "--out", out]) == 2
    assert "none of these are performance events" in capsys.readouterr().err
    not_midi = tmp_path / "notes.mid"
    not_midi.write_text("not a MIDI file")
    assert main(["inspect", str(event_run), "--midi", str(not_midi), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "notes.mid: not a Standard MIDI File" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as stopped:                             # neither --text nor --midi
        main(["inspect", str(event_run), "--out", out])
    assert stopped.value.code == 2 and "one of the arguments --text --midi is required" in capsys.readouterr().err


def test_a_long_primer_is_cut_to_what_the_picture_holds(event_run, make_midi, tmp_path, capsys):
    notes = [(i * 60, 60, 48 + i % 24, 80) for i in range(400)]             # 400 notes: > 800 events
    long_piece = make_midi(tmp_path / "long.mid", notes)
    assert main(["inspect", str(event_run), "--midi", str(long_piece), "--out", str(tmp_path / "g.png")]) == 0
    captured = capsys.readouterr()
    assert f"read the first {MAX_TOKENS} of its" in captured.err
    assert captured.out.startswith(f"{MAX_TOKENS} tokens")


def test_inspect_a_pianoroll_run_matches_its_pytorch_stack(tmp_path, midi_folder, capsys):
    out = tmp_path / "roll"
    assert main(["train", str(midi_folder), "--preset", "poly-lstm", "--steps-per-beat", "2",
                 "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    primer = midi_folder / "piece1.mid"
    picture = tmp_path / "roll.png"
    assert main(["inspect", str(out), "--midi", str(primer), "--out", str(picture)]) == 0
    printed = capsys.readouterr().out
    assert "frames through 2 lstm" in printed and "note pitch (highest)" in printed and picture.exists()
    seen = inspect_run(out, midi=str(primer))
    trained = open_run(out)
    frames = trained.tokenizer.frames(read_midi_file(primer))
    inputs = torch.zeros(len(frames), 1, 89)
    inputs[:, 0, :88] = torch.as_tensor(frames, dtype=torch.float32)
    inputs[0, 0, 88] = 1.0
    with torch.no_grad():
        hidden, *_ = trained.model.hidden(inputs, trained.model.initial_state(1))
    np.testing.assert_allclose(seen.layers[-1]["hidden"], hidden[:, 0].numpy(), atol=1e-5)
    assert main(["inspect", str(out), "--text", "60 64 67", "--out", str(picture)]) == 2
    assert "a piano-roll run reads music: pass --midi FILE" in capsys.readouterr().err

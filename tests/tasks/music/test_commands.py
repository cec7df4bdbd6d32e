"""End to end on tiny models: rnnlab train -> generate -> evaluate for midi runs."""

from __future__ import annotations

import json
import shutil

import pytest

from rnnlab.cli import main
from rnnlab.tasks.music.midi import read_midi_file
from rnnlab.tasks.music.audio import find_soundfont

TINY = ["--epochs", "1", "--batch-size", "2", "--bptt", "8", "--hidden", "16", "--layers", "1", "--threads", "1"]
CAN_PLAY = shutil.which("fluidsynth") is not None and find_soundfont() is not None


@pytest.fixture
def performance_run(tmp_path, midi_folder, capsys):
    (midi_folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    out = tmp_path / "run"
    assert main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", "performance", "--transpose", "1",
                 "--out", str(out), *TINY]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("broken.mid") == 1 and "skipped" in captured.err
    assert "6 files used, 1 skipped" in captured.out
    return out


def test_performance_train_generate_evaluate(performance_run, tmp_path, capsys):
    vocab = json.loads((performance_run / "vocab.json").read_text())
    assert vocab["tokenizer"] == {"name": "performance"} and "NOTE_ON_60" in vocab["tokens"]
    song = tmp_path / "song.mid"
    assert main(["generate", str(performance_run), "--out", str(song), "--seconds", "3", "--seed", "1",
                 "--temperature", "0.9", "--top-k", "50", "--top-p", "0.95"]) == 0
    captured = capsys.readouterr()
    assert song.exists() and song.with_suffix(".png").exists()
    assert song.with_suffix(".ogg").exists() == CAN_PLAY and not song.with_suffix(".wav").exists()
    if not CAN_PLAY:
        assert captured.err.strip().splitlines()[-1].startswith("song.ogg skipped: FluidSynth")
    generated = read_midi_file(song).score
    assert 0 < generated.to("second").end() <= 3.01

    assert main(["evaluate", str(performance_run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tokenizer"] == "performance" and result["tokens"] > 0 and result["nll"] > 0
    assert result["skipped_files"] == 1


def test_generate_from_a_midi_primer_and_from_seed_events(performance_run, midi_folder, tmp_path, capsys):
    primed = tmp_path / "primed.mid"
    assert main(["generate", str(performance_run), "--out", str(primed), "--prime", str(midi_folder / "piece0.mid"),
                 "--bars", "1", "--seed", "2"]) == 0
    assert "s of primer" in capsys.readouterr().out
    primer_notes = read_midi_file(midi_folder / "piece0.mid").score.note_num()
    assert read_midi_file(primed).score.note_num() >= primer_notes
    assert main(["generate", str(performance_run), "--out", str(tmp_path / "seeded"), "--prime",
                 "PROGRAM_0 VELOCITY_20 NOTE_ON_60", "--seconds", "1", "--seed", "2", "--audio", "none"]) == 0
    assert (tmp_path / "seeded.mid").exists()
    assert sorted(p.suffix for p in tmp_path.glob("seeded.*")) == [".json", ".mid", ".png"]     # --audio none
    assert main(["generate", str(performance_run), "--out", str(tmp_path / "x.mid"), "--prime", "00_90_3c64"]) == 2
    assert "not in this run's vocabulary: 00_90_3c64" in capsys.readouterr().err
    assert main(["generate", str(performance_run), "--out", str(tmp_path / "y.mid"), "--seconds", "0"]) == 2
    assert "more than 0" in capsys.readouterr().err and not (tmp_path / "y.mid").exists()
    before = primed.read_bytes()
    assert main(["generate", str(performance_run), "--out", str(primed), "--prime", str(primed), "--bars", "1"]) == 2
    assert "is the primer being read" in capsys.readouterr().err and primed.read_bytes() == before


def test_smf_events_run_from_one_file(tmp_path, make_midi, scale, capsys):
    """The seed's experiment: one track of one file, DELTA_STATUS_DATA words."""
    path = make_midi(tmp_path / "one.mid", scale(48, count=32))
    out = tmp_path / "seed"
    assert main(["train", str(path), "--modality", "midi", "--tokenizer", "smf-events", "--out", str(out), *TINY]) == 0
    assert "00_90_3050" in json.loads((out / "vocab.json").read_text())["tokens"]
    assert main(["generate", str(out), "--out", str(tmp_path / "seed.mid"), "--prime", "00_90_3050",
                 "--seconds", "2", "--seed", "0"]) == 0
    assert (tmp_path / "seed.mid").exists()


def test_pianoroll_run_on_midi_files(tmp_path, midi_folder, capsys):
    out = tmp_path / "roll"
    assert main(["train", str(midi_folder), "--preset", "poly-nade", "--steps-per-beat", "2", "--nade-hidden", "8",
                 "--out", str(out), *TINY]) == 0
    assert "training frames at 2 per beat" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tokenizer"] == "pianoroll" and result["frames"] == 16 - 1 and 0 < result["nll"] < 88
    song = tmp_path / "roll.mid"
    assert main(["generate", str(out), "--out", str(song), "--bars", "2", "--prime", "48,60,64", "--seed", "1"]) == 0
    assert read_midi_file(song).score.note_num() > 0


def test_bad_midi_options_are_refused_in_one_line(tmp_path, midi_folder, capsys):
    code = main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", "smf-events", "--transpose", "2",
                 "--out", str(tmp_path / "r"), *TINY])
    assert code == 2 and "--transpose does not apply to --tokenizer smf-events" in capsys.readouterr().err
    code = main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", "smf-events",
                 "--steps-per-beat", "4", "--out", str(tmp_path / "r"), *TINY])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--steps-per-beat does not apply to a midi-events run (it is a pianoroll option)" in err


def test_folder_without_midi_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["train", str(tmp_path / "empty"), "--modality", "midi", "--out", str(tmp_path / "r"), *TINY])
    assert code == 2 and capsys.readouterr().err.strip() == f"rnnlab: error: {tmp_path / 'empty'}: holds no MIDI files (.mid, .midi)"


def test_generate_needs_out(performance_run, capsys):
    assert main(["generate", str(performance_run)]) == 2
    assert "pass --out song.mid" in capsys.readouterr().err


@pytest.mark.parametrize("tokenizer", ["remi", "pianoroll"])
def test_resume_a_midi_run(tmp_path, midi_folder, tokenizer, capsys):
    out = tmp_path / "run"
    # A budget so small that training stops after its first window; resume reloads tokenizer and data.
    assert main(["train", str(midi_folder), "--modality", "midi", "--tokenizer", tokenizer, "--out", str(out),
                 *TINY, "--epochs", "2", "--max-minutes", "0.000001"]) == 0
    assert main(["train", "--resume", "--out", str(out), "--max-minutes", "0"]) == 0
    assert "resuming at epoch 1" in capsys.readouterr().out
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["epoch"] == 2 and not records[-1].get("partial")
    assert main(["generate", str(out), "--out", str(tmp_path / "after.mid"), "--seconds", "1", "--seed", "0"]) == 0


def test_pianoroll_run_with_averaged_weights_scores_the_average(tmp_path, midi_folder, capsys):
    """--average: the run validates, keeps and scores the moving average of its weights, not the last ones."""
    import torch

    from rnnlab.tasks.registry import open_run
    from rnnlab.train.checkpoint import load_checkpoint

    out = tmp_path / "roll"
    assert main(["train", str(midi_folder), "--preset", "poly-lstm", "--steps-per-beat", "2", "--average", "0.9",
                 "--weight-drop", "0.3", "--out", str(out), *TINY, "--epochs", "2"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["average"] == 0.9 and config["model"]["weight_drop"] == 0.3
    saved = load_checkpoint(out / "checkpoints" / "best.pt")["model"]
    model = open_run(out, "best", "cpu").model
    assert torch.equal(model.head.project.weight, saved["average_head_project_weight"])
    assert not torch.equal(saved["head.project.weight"], saved["average_head_project_weight"])
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json"]) == 0
    assert 0 < json.loads(capsys.readouterr().out)["nll"] < 88
    assert main(["train", str(midi_folder), "--preset", "poly-lstm", "--average", "1", "--out",
                 str(tmp_path / "bad"), *TINY]) != 0

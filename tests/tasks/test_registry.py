"""The task registry: a config's task, train's choice of task and defaults, one open_run for every run."""

from __future__ import annotations

import json

import pytest

from rnnlab.tasks.seq2seq.config import Seq2SeqConfig

from rnnlab.cli import main
from rnnlab.config import build_config
from rnnlab.errors import RnnlabError
from rnnlab.tasks.registry import TASKS, open_run, task_for, task_of_run
from rnnlab.train.loop import Progress

TINY = ["--epochs", "1", "--batch-size", "4", "--hidden", "8", "--layers", "1"]


@pytest.mark.parametrize("data, name", [
    ({}, "lm"), ({"modality": "series"}, "series"), ({"modality": "midi", "tokenizer": "remi"}, "midi-events"),
    ({"modality": "midi", "tokenizer": "pianoroll"}, "pianoroll"), ({"modality": "midi", "corpus": "jsb"}, "pianoroll"),
    ({"modality": "midi", "corpus": "songs/"}, "midi-events"), ({"task": "seq2seq"}, "seq2seq"),
    ({"task": "dialogue"}, "dialogue"), ({"task": "word2vec"}, "word2vec")])
def test_every_config_belongs_to_exactly_one_task(data, name):
    config = build_config("", {"data": data})
    assert task_for(config).name == name
    assert [task.name for task in TASKS.values() if task.claims(config)] == [name]


def test_train_takes_the_task_and_recipe_a_named_corpus_brings(tmp_path, monkeypatch):
    import rnnlab.cli as cli

    chosen = {}
    monkeypatch.setattr(cli.registry, "train", lambda config, out, **_: chosen.update(config=config))
    assert main(["train", "addition", "--out", str(tmp_path / "a")]) == 0
    config = chosen["config"]
    assert task_for(config).name == "seq2seq" and config.preset == "book-peeky"
    assert Seq2SeqConfig.of(config).decoder == "peeky" and config.data.level == "char"
    assert main(["train", "date", "--out", str(tmp_path / "d"), "--epochs", "3"]) == 0
    config = chosen["config"]
    assert config.preset == "book-attention" and Seq2SeqConfig.of(config).decoder == "attention" and config.train.epochs == 3
    assert main(["train", "jsb", "--out", str(tmp_path / "j")]) == 0
    config = chosen["config"]
    assert task_for(config).name == "pianoroll" and config.preset == "poly-lstm" and config.train.batch_size == 8
    assert main(["train", "ptb", "--out", str(tmp_path / "p")]) == 0
    assert task_for(chosen["config"]).name == "lm" and chosen["config"].data.level == "word"
    assert main(["train", "my-pairs.tsv", "--task", "seq2seq", "--out", str(tmp_path / "s")]) == 0
    assert chosen["config"].data.level == "word" and "seq2seq" in chosen["config"].sections


def test_a_flag_of_another_task_is_refused_in_one_line(tmp_path, small_text, capsys):
    code = main(["train", str(small_text), "--task", "seq2seq", "--engine", "numpy", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--engine does not apply to a seq2seq run" in err
    assert not (tmp_path / "r").exists()
    code = main(["train", "jsb", "--tie-weights", "--out", str(tmp_path / "r")])
    assert code == 2 and "--tie-weights does not apply to a pianoroll run" in capsys.readouterr().err
    code = main(["train", str(small_text), "--decoder", "peeky", "--out", str(tmp_path / "r")])
    assert code == 2 and "--decoder does not apply to a lm run (it is a seq2seq option)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(small_text), "--no-such-flag", "--out", str(tmp_path / "r")])
    assert exit_.value.code == 2 and "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_train_help_lists_the_options_of_the_task(capsys):
    for argv, present, absent in ((["jsb"], ["--frame-head", "--steps-per-beat"], ["--tie-weights", "--decoder"]),
                                  (["--task", "seq2seq"], ["--decoder", "--reverse-source"], ["--bptt", "--frame-head"]),
                                  ([], ["--tie-weights", "--level", "--tensorboard"], ["--decoder", "--mixtures"])):
        with pytest.raises(SystemExit) as exit_:
            main(["train", *argv, "--help"])
        shown = capsys.readouterr().out
        assert exit_.value.code == 0
        assert all(flag in shown for flag in present) and not any(flag in shown for flag in absent), argv


def test_evaluate_and_generate_refuse_flags_of_other_tasks(tmp_path, small_text, capsys):
    run = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--bptt", "8", "--out", str(run), *TINY]) == 0
    capsys.readouterr()
    for argv, flag in ((["evaluate", str(run), "--beam", "3"], "--beam"),
                       (["evaluate", str(run), "--analogies", "q.txt"], "--analogies"),
                       (["generate", str(run), "--seconds", "4"], "--seconds"),
                       (["generate", str(run), "--prime-file", "x.csv"], "--prime-file")):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{flag} does not apply to a lm run" in err
    assert main(["generate", str(run), "--beam", "2", "--length", "3"]) == 0     # --beam is a text run's


def test_one_open_run_for_every_task_and_a_clear_line_for_the_wrong_one(tmp_path, small_text):
    run = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--bptt", "8", "--out", str(run), *TINY]) == 0
    trained = open_run(run, "last")
    assert trained.config.data.level == "word" and trained.vocab.index["cat"] >= 0
    assert task_of_run(run).name == "lm"
    with pytest.raises(RnnlabError, match="not a seq2seq run"):
        TASKS["seq2seq"].open_run(run)
    config = json.loads((run / "config.json").read_text())
    assert "seq2seq" not in config and "dialogue" not in config          # only the sections a run has


def test_progress_saved_by_earlier_dialogue_runs_restores():
    saved = {"epoch": 3, "position": 7, "step": 40, "nll": 12.5, "kl": 0.5, "tokens": 90, "best": 2.1,
             "elapsed": 9.0, "metrics_count": 2}
    progress = Progress.restore(saved)
    assert (progress.epoch, progress.position, progress.step) == (3, 7, 40)
    assert (progress.epoch_nll, progress.epoch_tokens, progress.best_valid) == (12.5, 90, 2.1)
    assert progress.epoch_extra == {"kl": 0.5} and progress.metrics_count == 2


def test_midi_is_recognised_by_its_content(tmp_path, small_text, monkeypatch, capsys):
    import rnnlab.cli as cli

    header = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0"
    folder = tmp_path / "songs"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "tune.bin").write_bytes(header + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00")
    chosen = {}
    monkeypatch.setattr(cli.registry, "train", lambda config, out, **_: chosen.update(config=config))
    assert main(["train", str(folder), "--out", str(tmp_path / "r")]) == 0
    assert task_for(chosen["config"]).name == "midi-events" and chosen["config"].data.modality == "midi"
    assert main(["train", str(folder / "deep" / "tune.bin"), "--tokenizer", "pianoroll", "--out", str(tmp_path / "r")]) == 0
    assert task_for(chosen["config"]).name == "pianoroll"
    (folder / "notes.txt").write_text("text beside the songs\n")
    assert main(["train", str(folder), "--out", str(tmp_path / "r")]) == 0
    assert task_for(chosen["config"]).name == "lm"                  # text present: read as text
    assert main(["train", str(small_text), "--out", str(tmp_path / "r")]) == 0
    assert task_for(chosen["config"]).name == "lm"


def test_a_midi_file_read_as_text_says_what_to_do(tmp_path, capsys):
    song = tmp_path / "song.mid"
    song.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00")
    assert main(["train", str(song), "--modality", "text", "--out", str(tmp_path / "r"), *TINY]) == 2
    assert "a MIDI file, not text; train on MIDI with --task midi-events" in capsys.readouterr().err

"""Broken run folders, out-of-range options and folders that are not ours: one line, exit 2, nothing lost."""

import json
import shutil

import pytest

from rnnlab import cli
from rnnlab.cli import main
from tests.conftest import TINY


def broken_copy(base_run, tmp_path, name: str, content: str):
    run = tmp_path / "copy"
    shutil.copytree(base_run, run)
    for target in ([run / "checkpoints" / "best.pt", run / "checkpoints" / "last.pt"] if name == "checkpoint"
                   else [run / name]):
        target.write_text(content, encoding="utf-8")
    return run


@pytest.mark.parametrize("name, content, expected", [
    ("config.json", "[1, 2]", "config.json: not an rnnlab config"),
    ("config.json", None, "--hidden must be int, not 'eight'"),
    ("config.json", "cell", "config.json: unknown cell type 'xyz'"),
    ("vocab.json", '{"tokens": 5}', "vocab.json: not a valid rnnlab vocabulary file"),
    ("checkpoint", "hello", "corrupt or truncated checkpoint"),
])
def test_a_broken_run_folder_is_one_line_for_every_command(base_run, tmp_path, capsys, name, content, expected):
    if name == "config.json" and content in (None, "cell"):
        config = json.loads((base_run / "config.json").read_text())
        if content is None:
            config["model"]["hidden"] = "eight"
        else:
            config["model"]["cell"] = "xyz"
        content = json.dumps(config)
    run = broken_copy(base_run, tmp_path, name, content)
    capsys.readouterr()
    for command in (["evaluate", str(run)], ["generate", str(run), "--length", "3"],
                    ["inspect", str(run), "--text", "the cat", "--out", str(tmp_path / "g.png")],
                    ["train", "--resume", "--out", str(run)]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, (command, err)


@pytest.mark.parametrize("flags, expected", [
    (["--threads", "-2"], "--threads must not be negative"),
    (["--embed", "-3"], "--embed must not be negative"),
    (["--init", "uniform", "--init-range", "-1"], "--init-range must not be negative"),
    (["--optimizer", "sgd", "--momentum", "-1"], "--momentum must not be negative"),
    (["--lr", "nan"], "--lr must be a finite number"),
    (["--clip", "nan"], "--clip must be a finite number"),
    (["--max-minutes", "-3"], "--max-minutes must not be negative"),
    (["--device", "cuda:99"], "--device cuda:99"),
    (["--device", "toaster"], "--device 'toaster': not a device"),
])
def test_bad_training_options_are_refused_before_any_folder_is_made(tmp_path, small_text, capsys, flags, expected):
    out = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY, *flags]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    if "--device" not in flags:          # option checks come before the run folder exists
        assert not out.exists()


def test_a_folder_of_the_users_files_is_never_written_into(tmp_path, small_text, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.png").write_bytes(b"my plot")
    (mine / "vocab.json").write_text('{"x": 1}')
    assert main(["train", str(small_text), "--level", "word", "--out", str(mine), *TINY]) == 2
    assert "holds other files (metrics.png, vocab.json) and is not a run" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["metrics.png", "vocab.json"]
    assert (mine / "metrics.png").read_bytes() == b"my plot"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", str(small_text), "--level", "word", "--out", str(empty), *TINY]) == 0


def test_a_run_that_failed_before_saving_anything_can_be_started_again(tmp_path, small_text, capsys):
    out = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY[:2], "--batch-size",
                 "100000", *TINY[4:]]) == 2
    assert "parallel streams" in capsys.readouterr().err and (out / "config.json").exists()
    assert main(["train", "--resume", "--out", str(out)]) == 2
    assert "start it again without --resume" in capsys.readouterr().err
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY]) == 0
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY]) == 2   # now it holds a run
    assert "already holds a run" in capsys.readouterr().err


def test_resume_says_which_flags_it_ignores(base_run, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(base_run, run)
    assert main(["train", "--resume", "--out", str(run), "--hidden", "32", "--epochs", "2"]) == 0
    err = capsys.readouterr().err
    assert "ignored: --hidden" in err and "--epochs" not in err.split("ignored:")[1].split("(")[0]
    assert json.loads((run / "config.json").read_text())["model"]["hidden"] == 16


def test_sampling_options_that_are_not_numbers(base_run, capsys):
    assert main(["generate", str(base_run), "--length", "3", "--temperature", "nan"]) == 2
    assert "--temperature must be a positive number" in capsys.readouterr().err


def test_an_unforeseen_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    def broken(argv):
        raise ValueError("something nobody planned for\nsecond line")
    monkeypatch.setattr(cli.COMMANDS["evaluate"], "run", broken)
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    assert main(["evaluate", "anything"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ValueError: something nobody planned for" in err and "RNNLAB_DEBUG" in err
    monkeypatch.setenv("RNNLAB_DEBUG", "1")
    with pytest.raises(ValueError):
        main(["evaluate", "anything"])

"""A run folder is rnnlab's own, has one writer at a time, and loses nothing when a write is cut short."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from rnnlab.cli import main
from rnnlab.errors import RnnlabError
from rnnlab.locks import hold_run, LOCK_NAME
from rnnlab.runs import MARKER, RunDir
from tests.conftest import TINY


def copy_of(base_run, tmp_path, name="copy"):
    run = tmp_path / name
    shutil.copytree(base_run, run, ignore=shutil.ignore_patterns(LOCK_NAME))
    return run


def one_line(err: str) -> str:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


# ---- whose folder is it ---------------------------------------------------------------------------
def users_project(tmp_path, config: dict):
    mine = tmp_path / "proj"
    (mine / "src").mkdir(parents=True)
    (mine / "config.json").write_text(json.dumps(config))
    (mine / "vocab.json").write_text('{"mine": true}')
    (mine / "README").write_text("my project\n")
    return mine


@pytest.mark.parametrize("config", [{"name": "my app", "debug": True},
                                    {"data": {"corpus": "x"}, "model": {}, "train": {}}])
def test_a_folder_with_a_config_json_of_its_own_is_not_taken_over(tmp_path, small_text, capsys, config):
    mine = users_project(tmp_path, config)
    before = {p.name: p.read_bytes() for p in mine.iterdir() if p.is_file()}
    assert main(["train", str(small_text), "--level", "word", "--out", str(mine), *TINY]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(mine) in err and "is not a run" in err
    assert {p.name: p.read_bytes() for p in mine.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in mine.iterdir()) == ["README", "config.json", "src", "vocab.json"]


def test_a_new_run_is_marked_and_a_run_from_before_the_mark_still_resumes(base_run, tmp_path):
    assert (base_run / MARKER).is_file()
    old = copy_of(base_run, tmp_path)
    (old / MARKER).unlink()
    assert main(["train", "--resume", "--out", str(old), "--epochs", "2"]) == 0
    assert (old / MARKER).is_file() and len(RunDir(old).read_metrics()) == 2


def test_an_unmarked_folder_with_foreign_files_is_not_resumed(base_run, tmp_path, capsys):
    old = copy_of(base_run, tmp_path)
    (old / MARKER).unlink()
    (old / "notes.docx").write_bytes(b"mine")
    last = (old / "checkpoints" / "last.pt").read_bytes()
    assert main(["train", "--resume", "--out", str(old), "--epochs", "2"]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(old) in err and "notes.docx" in err
    assert (old / "checkpoints" / "last.pt").read_bytes() == last


# ---- one writer ---------------------------------------------------------------------------------
def test_a_run_being_trained_is_refused_to_a_second_writer(base_run, tmp_path, small_text, capsys):
    run = copy_of(base_run, tmp_path)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for folder, command in ((run, ["train", "--resume", "--out", str(run), "--epochs", "2"]),
                            (fresh, ["train", str(small_text), "--level", "word", "--out", str(fresh), *TINY])):
        with hold_run(folder):
            assert main(command) == 2
            err = one_line(capsys.readouterr().err)
            assert str(folder) in err and f"pid {os.getpid()}" in err and "already training" in err
        assert main(command) == 0, command


def test_a_second_train_process_is_refused_while_the_first_trains(tmp_path, small_text):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "rnnlab", "train", str(small_text), "--level", "word", "--out", str(out),
               "--epochs", "1000", "--batch-size", "4", "--bptt", "8", "--hidden", "16", "--layers", "1"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (out / "checkpoints").is_dir() and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run(command[:-10] + ["--epochs", "1", "--batch-size", "4", "--bptt", "8", "--hidden",
                                                 "32", "--layers", "1"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert f"pid {first.pid}" in one_line(second.stderr)
    finally:
        first.kill()
        first.wait()


def test_a_holder_killed_with_sigkill_lets_go(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from rnnlab.locks import hold_run\n"
                               f"with hold_run({str(folder)!r}):\n print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RnnlabError, match=f"pid {holder.pid}"):
            with hold_run(folder):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with hold_run(folder):
        pass


# ---- metrics.jsonl cut short --------------------------------------------------------------------
def test_a_torn_last_metrics_line_is_dropped_on_resume(base_run, tmp_path):
    run = copy_of(base_run, tmp_path)
    with (run / "metrics.jsonl").open("a") as handle:
        handle.write('{"epoch": 2, "train_lo')
    assert len(RunDir(run).read_metrics()) == 1
    assert main(["train", "--resume", "--out", str(run), "--epochs", "2"]) == 0
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)


def test_a_corrupt_metrics_line_in_the_middle_is_one_line_naming_it(base_run, tmp_path, capsys):
    run = copy_of(base_run, tmp_path)
    good = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text("{broken\n" + good)
    assert main(["train", "--resume", "--out", str(run), "--epochs", "2"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "metrics.jsonl" in err and "line 1" in err


# ---- exports ------------------------------------------------------------------------------------
def test_export_never_writes_into_a_folder_it_did_not_make(base_run, tmp_path, capsys):
    pytest.importorskip("onnx")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>my site</p>")
    assert main(["export", str(base_run), "--out", str(site), "--page"]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(site) in err and "index.html" in err
    assert (site / "index.html").read_text() == "<p>my site</p>" and len(list(site.iterdir())) == 1
    ours = tmp_path / "ours"
    assert main(["export", str(base_run), "--out", str(ours)]) == 0
    assert main(["export", str(base_run), "--out", str(ours)]) == 0        # its own export: written again

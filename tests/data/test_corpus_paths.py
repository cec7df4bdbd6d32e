"""A run's corpus is saved so that it resumes from any folder; only regular files are read."""

import json
import os
import socket


from rnnlab.cli import main
from rnnlab.data.corpora import corpus_on_disk

TINY = ["--epochs", "1", "--batch-size", "4", "--bptt", "8", "--hidden", "16", "--layers", "1"]


def one_line(err: str) -> str:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_a_corpus_on_disk_is_saved_as_an_absolute_path_and_resumes_from_anywhere(tmp_path, small_text,
                                                                                 monkeypatch):
    monkeypatch.chdir(small_text.parent)
    assert main(["train", small_text.name, "--level", "word", "--out", "run", *TINY]) == 0
    saved = json.loads((small_text.parent / "run" / "config.json").read_text())["data"]["corpus"]
    assert saved == str(small_text.resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--resume", "--out", str(small_text.parent / "run"), "--epochs", "2"]) == 0


def relative_run(tmp_path, small_text):
    """A run as older versions saved it: the corpus relative to the folder training started in."""
    project = small_text.parent
    os.chdir(project)
    assert main(["train", str(small_text), "--level", "word", "--out", "runs/a", *TINY]) == 0
    config_path = project / "runs" / "a" / "config.json"
    config = json.loads(config_path.read_text())
    config["data"]["corpus"] = small_text.name
    config_path.write_text(json.dumps(config))
    return project / "runs" / "a"


def test_an_old_run_with_a_relative_corpus_resumes_from_another_folder(tmp_path, small_text, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = relative_run(tmp_path, small_text)
    monkeypatch.chdir("/")
    assert main(["train", "--resume", "--out", str(run), "--epochs", "2"]) == 0


def test_an_old_run_whose_corpus_is_gone_says_so_in_one_line(tmp_path, small_text, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run = relative_run(tmp_path, small_text)
    small_text.rename(tmp_path / "moved.txt")
    monkeypatch.chdir("/")
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(run), "--epochs", "2"]) == 2
    err = one_line(capsys.readouterr().err)
    assert "small.txt" in err and "corpus" in err


def test_named_corpora_stay_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "python-stdlib").mkdir()
    assert corpus_on_disk("python-stdlib") == "python-stdlib"
    assert corpus_on_disk("tinyshakespeare") == "tinyshakespeare"


def test_a_device_is_not_read_as_a_corpus(tmp_path, capsys):
    assert main(["train", "/dev/zero", "--out", str(tmp_path / "run"), *TINY]) == 2
    err = one_line(capsys.readouterr().err)
    assert "/dev/zero" in err and "not a regular file" in err
    assert not (tmp_path / "run").exists()


def test_a_fifo_and_a_socket_are_refused(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        for path in (fifo, sock_path):
            assert main(["train", str(path), "--out", str(tmp_path / "run"), *TINY]) == 2
            assert "not a regular file" in one_line(capsys.readouterr().err)
    finally:
        server.close()


def test_a_fifo_inside_a_corpus_folder_is_skipped(tmp_path, small_text, capsys):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text(small_text.read_text())
    os.mkfifo(folder / "b.txt")
    assert main(["train", str(folder), "--level", "word", "--out", str(tmp_path / "run"), *TINY]) == 0

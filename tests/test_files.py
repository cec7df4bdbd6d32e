"""Files written whole or not at all: the umask's mode, the folder synced, a full disk named in one line."""

import errno
import os
import stat

import pytest

from rnnlab import files
from rnnlab.cli import main
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint

TINY = ["--epochs", "1", "--batch-size", "4", "--bptt", "8", "--hidden", "16", "--layers", "1"]


@pytest.fixture
def umask():
    def set_to(value):
        os.umask(value)
    old = os.umask(0o022)
    os.umask(old)
    yield set_to
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_follow_the_umask(tmp_path, umask, mask):
    umask(mask)
    write_atomic(tmp_path / "a.json", "{}")
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o666 & ~mask


def test_every_file_of_a_run_has_the_same_mode(tmp_path, small_text, umask):
    umask(0o022)
    out = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY]) == 0
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()}
    assert "config.json" in modes and "checkpoints/last.pt" in modes and "metrics.png" in modes
    assert set(modes.values()) == {0o644}, modes


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def recording(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real(fd)
    monkeypatch.setattr(files.os, "fsync", recording)
    write_atomic(tmp_path / "a.txt", "x")
    assert synced[-1] is True


def full_disk(monkeypatch, code=errno.ENOSPC):
    real = os.write

    def write(fd, data):
        if fd > 2:
            raise OSError(code, os.strerror(code))
        return real(fd, data)
    monkeypatch.setattr(os, "write", write)


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"step": 1})
    before = path.read_bytes()
    full_disk(monkeypatch)
    with pytest.raises(RnnlabError, match="last.pt: the disk is full") as caught:
        save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == before and load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_a_run_that_fills_the_disk_stops_in_one_line_and_keeps_its_checkpoint(tmp_path, small_text, monkeypatch,
                                                                              capsys):
    out = tmp_path / "run"
    assert main(["train", str(small_text), "--level", "word", "--out", str(out), *TINY]) == 0
    last = (out / "checkpoints" / "last.pt").read_bytes()
    capsys.readouterr()
    full_disk(monkeypatch, errno.EDQUOT)
    assert main(["train", "--resume", "--out", str(out), "--epochs", "2"]) == 2
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "disk" in err and "unexpected" not in err and len(err.strip().splitlines()) == 1, err
    assert (out / "checkpoints" / "last.pt").read_bytes() == last
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_the_cli_names_a_full_disk_wherever_it_happens(monkeypatch, capsys):
    def fills(argv):
        raise OSError(errno.ENOSPC, "No space left on device", "/data/out/big.bin")
    monkeypatch.setattr("rnnlab.cli.dispatch", fills)
    assert main(["train", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: /data/out/big.bin: the disk is full") and "unexpected" not in err

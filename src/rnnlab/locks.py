"""One writer per run: the process that trains a run holds an OS lock on RUN/.rnnlab-lock.

The lock is the kernel's (flock), so a process that dies, even by `kill -9`, lets go of it. The
holder writes its pid, host and start time into the file so that a second process can say who
is training the run. Where the platform has no flock, runs are not locked.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from rnnlab.errors import RnnlabError

try:
    import fcntl
except ImportError:            # Windows: no advisory locks of this kind
    fcntl = None

LOCK_NAME = ".rnnlab-lock"


def holder_of(fd: int) -> str:
    """The holder as it described itself in the lock file, in words."""
    try:
        raw = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f"pid {raw['pid']} on {raw['host']}, since {raw['started']}"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "another process"


def describe_me() -> bytes:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": started}).encode("utf-8")


def _acquire(path: Path) -> int:
    """An open descriptor of `path` holding the lock; the file is opened again if it was replaced
    between the open and the lock (a holder that cleaned up behind itself)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = holder_of(fd)
            os.close(fd)
            raise RnnlabError(f"{path.parent}: {holder} is already training this run; wait for it to finish "
                              "or stop it (one process writes a run at a time)") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextmanager
def hold_run(folder):
    """Hold `folder`'s run lock while the block runs (making the folder if need be); another holder
    is a one-line error naming it. A folder made here that is left holding only the lock is removed."""
    folder = Path(folder)
    if fcntl is None:
        yield
        return
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RnnlabError(f"{folder}: cannot make the run folder ({err.strerror or err})") from None
    path = folder / LOCK_NAME
    fd = _acquire(path)
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, describe_me(), 0)
        except OSError:                 # who holds it is a courtesy; the lock itself is held
            pass
        yield
    finally:
        if made and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            path.unlink()
            try:
                folder.rmdir()
            except OSError:
                pass
        else:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
        os.close(fd)

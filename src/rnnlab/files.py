"""Files that are never half-written: write beside the target, sync, rename, sync the folder.

A file gets the mode any new file gets (0666 less the umask), and a full disk is one line naming
the file, with the previous version left in place.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from rnnlab.errors import RnnlabError

DISK_FULL = {errno.ENOSPC: "the disk is full",
             getattr(errno, "EDQUOT", -1): "the disk is full (your quota is used up)"}


def disk_full(err: OSError) -> str | None:
    """What to tell the user when `err` is a full disk or quota; None for any other error."""
    return DISK_FULL.get(err.errno)


def disk_full_error(err: OSError, path) -> RnnlabError:
    return RnnlabError(f"{path}: {disk_full(err)}; nothing was half-written and the previous version, if "
                       "any, is kept: free some space and run the command again")


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the platform can sync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_beside(path: Path) -> tuple[int, Path]:
    """A new file next to `path`, created with the umask's mode (mkstemp would make it 0600)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def write_atomic(path: Path, text_or_bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a file."""
    path = Path(path)
    data = memoryview(text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes)
    fd, tmp = temporary_beside(path)
    try:
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        sync_folder(path.parent)
    except OSError as err:
        if disk_full(err):
            raise disk_full_error(err, path) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def save_figure(fig, path: Path, dpi: int = 90) -> None:
    """Save a matplotlib figure as PNG atomically and close it; an unwritable path is a user error."""
    import matplotlib.pyplot as plt

    path = Path(path)
    tmp = None
    try:
        fd, tmp = temporary_beside(path)
        with os.fdopen(fd, "wb") as handle:
            fig.savefig(handle, dpi=dpi, format="png")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        sync_folder(path.parent)
    except OSError as err:
        if disk_full(err):
            raise disk_full_error(err, path) from None
        raise RnnlabError(f"{path}: cannot write the picture ({err.strerror})") from None
    finally:
        plt.close(fig)
        if tmp is not None and tmp.exists():
            tmp.unlink()

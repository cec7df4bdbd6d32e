"""Files that are never half-written: write beside the target, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text_or_bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a file."""
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_figure(fig, path: Path, dpi: int = 90) -> None:
    """Save a matplotlib figure as PNG atomically and close it; an unwritable path is a user error."""
    import matplotlib.pyplot as plt

    from rnnlab.errors import RnnlabError

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.png")
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    except OSError as err:
        raise RnnlabError(f"{path}: cannot write the picture ({err.strerror})") from None
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()

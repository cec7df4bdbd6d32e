"""Checkpoints: state dicts plus everything a stateful run needs to resume exactly.

Written to a temporary file and renamed; loaded with `weights_only=True`. A truncated or
corrupt file is reported in one line naming it.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import torch

from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic

FORMAT = "rnnlab-checkpoint-1"


def save_checkpoint(path: Path, payload: dict) -> None:
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buffer)
    write_atomic(path, buffer.getvalue())


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    if not path.exists():
        raise RnnlabError(f"{path}: no checkpoint here; the run has not saved one yet")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, OSError, KeyError,
            IndexError, TypeError, AttributeError) as err:     # whatever the unpickler makes of a non-checkpoint
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise RnnlabError(f"{path}: corrupt or truncated checkpoint ({reason}); "
                          "use the other checkpoint in that folder or train again") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RnnlabError(f"{path}: not an rnnlab checkpoint")
    return payload

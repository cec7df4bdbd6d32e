"""Trained models that ship by name: `@shakespeare` is a run folder inside the `rnnlab_models` package.

Every command reaches a run through `RunDir`, which passes what it is given through `resolve`, so
`rnnlab generate @shakespeare`, `rnnlab serve @nottingham` and `rnnlab.load("@bach")` all find the
same folder. The package is installed like any other (`pip install rnnlab-models`); nothing is
downloaded when a model is used, and nothing is written into its folder.
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

from rnnlab.errors import RnnlabError

PREFIX = "@"
PACKAGE = "rnnlab_models"
CARD = "card.json"
WEIGHTS = "weights.safetensors"
INSTALL = "pip install rnnlab-models (in a checkout of rnnlab: pip install ./models)"


def is_name(path: str | Path) -> bool:
    """Whether a run argument names a shipped model (`@shakespeare`) rather than a folder."""
    return isinstance(path, str) and path.startswith(PREFIX)


def package_root() -> Path | None:
    """The installed rnnlab_models package's folder, or None when it is not installed."""
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_root() -> Path:
    root = package_root()
    if root is None:
        raise RnnlabError(f"the shipped models are not installed: {INSTALL}")
    return root


def names() -> list[str]:
    """The shipped models' names, sorted."""
    root = installed_root()
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / CARD).is_file())


def resolve(path: str | Path) -> Path:
    """A run folder: `path` itself, or for `@name` the shipped model's folder."""
    if not is_name(path):
        return Path(path)
    name = str(path)[len(PREFIX):]
    root = installed_root()
    folder = root / name
    if not name or name.startswith(".") or "/" in name or "\\" in name or not (folder / CARD).is_file():
        known = ", ".join(PREFIX + n for n in names()) or "none"
        raise RnnlabError(f"{path}: no shipped model of that name; there are: {known} (`rnnlab models` lists them)")
    return folder


def is_shipped(folder: str | Path) -> bool:
    """A shipped model's folder (read-only: weights as safetensors beside a card), not a training run."""
    folder = Path(folder)
    return (folder / CARD).is_file() and (folder / WEIGHTS).is_file()


def read_card(folder: str | Path) -> dict:
    path = Path(folder) / CARD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RnnlabError(f"{path}: unreadable model card ({err})") from None


def cards() -> dict[str, dict]:
    """Every shipped model's card, name -> card (`rnnlab.models()`)."""
    root = installed_root()
    return {name: read_card(root / name) for name in names()}


def read_weights(folder: str | Path) -> dict:
    """A shipped model's weights as float32 tensors, by state-dict name."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(folder) / WEIGHTS
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise RnnlabError(f"{path}: corrupt or truncated weights ({str(err)[:120]}); reinstall: {INSTALL}") from None
    return {name: t.float() if t.is_floating_point() and t.dtype != torch.float32 else t for name, t in tensors.items()}


def export_folder(run: Path) -> Path:
    """Where `rnnlab export` writes by default: RUN/export, or for a shipped model NAME-export in the
    current folder (never into the installed package)."""
    return Path.cwd() / f"{run.name}-export" if is_shipped(run) else run / "export"

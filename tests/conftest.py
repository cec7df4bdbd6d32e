"""Shared fixtures: small corpora written per test, the shared data folder when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def small_text(tmp_path) -> Path:
    lines = [f"the {animal} {verb} the {thing} ." for animal in ("cat", "dog", "fox", "owl")
             for verb in ("sees", "likes", "finds") for thing in ("ball", "tree", "box", "hat")]
    path = tmp_path / "small.txt"
    path.write_text("\n".join(lines * 6) + "\n", encoding="utf-8")
    return path


CUDA_SKIP = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here (the cuda variant runs on a GPU machine)")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=CUDA_SKIP)])
def device(request) -> str:
    """Each device a test should pass on: the CPU, and the GPU where there is one (skipped, with the reason, elsewhere)."""
    return request.param


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    if "RNNLAB_DATA" not in os.environ and SHARED_DATA.is_dir():
        monkeypatch.setenv("RNNLAB_DATA", str(SHARED_DATA))


# A tiny word model's training flags, and a run of it on a small text that a test module shares.
TINY = ["--epochs", "1", "--batch-size", "4", "--bptt", "8", "--hidden", "16", "--layers", "1"]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    from rnnlab.cli import main

    root = tmp_path_factory.mktemp("base")
    corpus = root / "words.txt"
    corpus.write_text("the cat sat on the mat and the dog sat on the log\n" * 120, encoding="utf-8")
    out = root / "run"
    assert main(["train", str(corpus), "--level", "word", "--out", str(out), *TINY]) == 0
    return out

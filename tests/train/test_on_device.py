"""Training on each device there is: a tiny run, killed and resumed, ends as the uninterrupted one;
--compile trains (or says in one line why it cannot, and trains uncompiled)."""

from __future__ import annotations

import pytest
import torch

from rnnlab.config import build_config
from rnnlab.tasks.registry import train
from rnnlab.train import loop

from tests.train.test_resume import Killed, kill_at


def config_for(corpus, device, **options):
    return build_config("", {"data": {"corpus": str(corpus), "level": "word"},
                             "model": {"cell": "lstm", "layers": 2, "hidden": 16, "dropout": 0.3, "weight_drop": 0.2},
                             "train": {"epochs": 2, "batch_size": 4, "bptt": 8, "checkpoint_every": 5, "seed": 7,
                                       "device": device, **options}})


def test_a_run_killed_and_resumed_on_the_device_matches_the_uninterrupted_one(tmp_path, small_text, device):
    quiet = lambda *_: None
    if device == "cuda":                    # deterministic kernels, as docs/guides/gpu.md says
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        whole = train(config_for(small_text, device), tmp_path / "whole", log=quiet)
        with pytest.raises(Killed):
            train(config_for(small_text, device), tmp_path / "split", callbacks=[kill_at(13)], log=quiet)
        resumed = train(None, tmp_path / "split", resume=True, log=quiet)
    finally:
        torch.use_deterministic_algorithms(False)
    assert whole[-1]["valid_loss"] < whole[0]["train_loss"]
    # cuDNN's LSTM backward is not bitwise repeatable: on a GPU the runs agree closely, not exactly
    tolerance = 1e-6 if device == "cpu" else 1e-3
    for a, b in zip(whole, resumed):
        for key in ("epoch", "step", "train_loss", "valid_loss"):
            assert a[key] == pytest.approx(b[key], rel=tolerance), key


def test_mixed_precision_on_the_device_learns_like_fp32(tmp_path, small_text, device):
    if device == "cpu":
        pytest.skip("mixed precision on a CPU is bf16 with AVX-512 BF16 or AMX; tests/train/test_loop.py covers it")
    quiet = lambda *_: None
    fp32 = train(config_for(small_text, device, epochs=3), tmp_path / "fp32", log=quiet)
    for precision in ("fp16", "auto"):
        lines = []
        mixed = train(config_for(small_text, device, epochs=3, precision=precision), tmp_path / precision, log=lines.append)
        assert mixed[0]["precision"] in ("fp16", "bf16") and any("training in" in line for line in lines)
        assert mixed[-1]["valid_loss"] == pytest.approx(fp32[-1]["valid_loss"], rel=0.05)
    train(None, tmp_path / "fp16", resume=True, overrides={"train": {"epochs": 4}}, log=quiet)   # the scaler resumes


def test_compile_trains_like_eager(tmp_path, small_text, device):
    lines = []
    eager = train(config_for(small_text, device, epochs=1), tmp_path / "eager", log=lambda *_: None)
    compiled = train(config_for(small_text, device, epochs=1, compile=True), tmp_path / "compiled", log=lines.append)
    assert compiled[0]["valid_loss"] == pytest.approx(eager[0]["valid_loss"], rel=1e-3)
    assert compiled[0]["compiled"] or any("--compile failed" in line for line in lines)


class CompileFailure(RuntimeError):
    """What torch.compile raises where it cannot build (no C++ compiler, an unsupported op)."""


CompileFailure.__module__ = "torch._inductor.exc"


def test_a_compile_that_fails_says_so_in_one_line_and_trains_uncompiled(tmp_path, small_text, monkeypatch):
    class Broken(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self._orig_mod = model

        def forward(self, *args):
            raise CompileFailure("C++ compiler not found\nmore detail")

    monkeypatch.setattr(loop.torch, "compile", Broken)
    lines = []
    failed = train(config_for(small_text, "cpu", epochs=1, compile=True), tmp_path / "failed", log=lines.append)
    eager = train(config_for(small_text, "cpu", epochs=1), tmp_path / "eager", log=lambda *_: None)
    notes = [line for line in lines if "--compile failed" in line]
    assert notes == ["note: --compile failed on this platform (C++ compiler not found); training uncompiled"]
    assert failed[0]["compiled"] is False
    assert failed[0]["valid_loss"] == eager[0]["valid_loss"]           # from the same random state

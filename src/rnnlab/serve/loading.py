"""Opening run directories for serving: each becomes a `ServedModel`, its weights packed for
one-token steps (fp32, or int8 with `--quantize`)."""

from __future__ import annotations

import torch

from rnnlab.errors import RnnlabError
from rnnlab.serve.protocol import ServedModel


def quantized(model: torch.nn.Module):
    """int8 weights for the recurrent and linear layers (CPU only).

    A 2x650 model's weights shrink from 53 MB to 13 MB and fit the CPU's cache: one step gets much
    faster at batch 1. Language models step through the packed int8 Stepper of `rnnlab generate
    --precision int8`; other models through PyTorch's dynamic quantization (deprecated upstream in
    favour of torchao, but working in torch 2.x).
    """
    from rnnlab.generate.stepper import Stepper
    from rnnlab.tasks.language_model.model import LanguageModel

    if isinstance(model, LanguageModel):
        try:
            return Stepper(model, "int8")
        except (RuntimeError, NotImplementedError):    # no fbgemm kernels here (e.g. an ARM CPU)
            pass
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear},
                                                      dtype=torch.qint8)


def packed(model: torch.nn.Module):
    """A language model's fp32 weights packed for one-token steps (3x faster at batch 1 on a CPU);
    other models as they are."""
    from rnnlab.generate.stepper import fast_model
    from rnnlab.tasks.language_model.model import LanguageModel

    if isinstance(model, LanguageModel):
        return fast_model(model.eval(), "fp32", [])      # what `generate` samples with
    return model


def load_models(paths: list[str], device: str = "cpu", quantize: bool = False) -> dict[str, ServedModel]:
    """Open each run directory once; names are the folders' names, made unique."""
    from pathlib import Path

    from rnnlab.tasks.registry import task_of_run

    models: dict[str, ServedModel] = {}
    for path in paths:
        base = Path(path).resolve().name or "model"
        name, n = base, 2
        while name in models:
            name, n = f"{base}-{n}", n + 1
        task = task_of_run(path)
        trained = task.open_run(path, "best", device)
        if quantize:
            if torch.device(device).type != "cpu":
                raise RnnlabError("--quantize works on the CPU only; drop it or serve with --device cpu")
            trained.model = quantized(trained.model)
        else:
            trained.model = packed(trained.model)
        models[name] = task.served(name, trained)
    return models

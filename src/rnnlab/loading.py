"""Open a trained run: its config, tokeniser, vocabulary and weights, ready to use."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import torch

from rnnlab.config import RunConfig
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, Vocabulary, load_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint


@dataclass
class TrainedRun:
    run: RunDir
    config: RunConfig
    tokenizer: TextTokenizer
    vocab: Vocabulary
    model: torch.nn.Module
    device: torch.device


# modality -> "module:function" taking (RunConfig, output_size) and returning an nn.Module with
# initial_state(batch), forward(inputs, state, targets) -> LMOutput and step_logits(inputs, state).
MODEL_BUILDERS = {
    "text": "rnnlab.models.model:build_language_model",
}


def build_model(config: RunConfig, output_size: int) -> torch.nn.Module:
    target = MODEL_BUILDERS.get(config.data.modality, MODEL_BUILDERS["text"])
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)(config, output_size)


def open_run(path, which: str = "best", device: str | torch.device = "cpu") -> TrainedRun:
    """Load a run directory; `which` is best or last (best falls back to last)."""
    run = RunDir(path)
    config = run.load_config()
    vocab, payload = load_vocabulary(run.vocab_path)
    tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
    checkpoint = run.best_checkpoint if which == "best" and run.best_checkpoint.exists() else run.last_checkpoint
    state = load_checkpoint(checkpoint)
    model = build_model(config, len(vocab))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
        raise RnnlabError(f"{checkpoint}: weights do not match the run's config and vocabulary ({first})") from None
    device = torch.device(device)
    model.to(device).eval()
    return TrainedRun(run, config, tokenizer, vocab, model, device)

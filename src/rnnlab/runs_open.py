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
    assets: object = None        # what a modality saved beside its weights (series: SeriesSpec)


# modality -> "module:function" taking (RunConfig, output_size) and returning an nn.Module with
# initial_state(batch), forward(inputs, state, targets) -> LMOutput and step_logits(inputs, state).
MODEL_BUILDERS = {
    "text": "rnnlab.tasks.language_model.model:build_language_model",
    "series": "rnnlab.tasks.series.model:build_series_model",
    "midi": "rnnlab.tasks.music.pianoroll_model:build_midi_model",
}

# modality -> "module:function" taking the RunDir and returning (tokenizer, vocab, output_size, assets),
# for runs that keep no vocab.json; the others load vocab.json below.
RUN_ASSETS = {
    "series": "rnnlab.tasks.series.data:load_series_run_assets",
    "midi": "rnnlab.tasks.music.data:load_midi_run_assets",
}


def build_model(config: RunConfig, output_size: int) -> torch.nn.Module:
    target = MODEL_BUILDERS.get(config.data.modality, MODEL_BUILDERS["text"])
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)(config, output_size)


def open_run(path, which: str = "best", device: str | torch.device = "cpu") -> TrainedRun:
    """Load a run directory; `which` is best or last (best falls back to last)."""
    run = RunDir(path)
    config = run.load_config()
    if config.data.modality in RUN_ASSETS:
        module, function = RUN_ASSETS[config.data.modality].split(":")
        tokenizer, vocab, output_size, assets = getattr(importlib.import_module(module), function)(run)
    else:
        vocab, payload = load_vocabulary(run.vocab_path)
        tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
        output_size, assets = len(vocab), None
    checkpoint = run.best_checkpoint if which == "best" and run.best_checkpoint.exists() else run.last_checkpoint
    state = load_checkpoint(checkpoint)
    model = build_model(config, output_size)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
        raise RnnlabError(f"{checkpoint}: weights do not match the run's config and vocabulary ({first})") from None
    device = torch.device(device)
    model.to(device).eval()
    return TrainedRun(run, config, tokenizer, vocab, model, device, assets)

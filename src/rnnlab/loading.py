"""Open a trained run: its config, tokeniser, vocabulary and weights, ready to use."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnlab.config import RunConfig
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, Vocabulary, load_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.models.model import LanguageModel
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint


@dataclass
class TrainedRun:
    run: RunDir
    config: RunConfig
    tokenizer: TextTokenizer
    vocab: Vocabulary
    model: LanguageModel
    device: torch.device


def build_model(config: RunConfig, vocab_size: int) -> LanguageModel:
    return LanguageModel(config.model, vocab_size, fused_loss=config.train.fused_loss)


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

"""Responses from a trained dialogue run: sample (or pick greedily) given the last utterances."""

from __future__ import annotations

import torch

from rnnlab.tasks.dialogue.data import make_dialogue_batch
from rnnlab.tasks.seq2seq.data import BOS, join_side, split_side
from rnnlab.data.tokenize import EOS, TextTokenizer, TokenizerConfig, load_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint
from rnnlab.tasks.dialogue.train import build_dialogue_model, load_dialogue_config


def open_dialogue_run(path, which: str = "best", device="cpu"):
    run = RunDir(path)
    config, dialogue = load_dialogue_config(run)
    if config.data.task != "dialogue":
        raise RnnlabError(f"{run.path}: a {config.data.task} run, not a dialogue run (train one with --task dialogue)")
    vocab, payload = load_vocabulary(run.vocab_path)
    tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
    checkpoint = run.best_checkpoint if which == "best" and run.best_checkpoint.exists() else run.last_checkpoint
    model = build_dialogue_model(config, dialogue, vocab)
    try:
        model.load_state_dict(load_checkpoint(checkpoint)["model"])
    except RuntimeError:
        raise RnnlabError(f"{checkpoint}: weights do not match the run's config and vocabulary") from None
    model.to(device).eval()
    return config, dialogue, tokenizer, vocab, model


def respond(path, contexts: list[list[str]], samples: int = 1, temperature: float = 1.0, top_k: int = 0,
            greedy: bool = False, seed: int | None = None, device: str = "cpu", loaded=None) -> list[list[str]]:
    """Responses (`samples` per context) to each context, a list of utterance strings (last = newest)."""
    config, dialogue, tokenizer, vocab, model = loaded or open_dialogue_run(path, "best", device)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    out = []
    for context in contexts:
        turns = [vocab.encode(split_side(tokenizer, u)[:dialogue.utterance_length]) or [vocab.unk_id]
                 for u in context[-dialogue.context_size:]]
        turns = [[vocab.unk_id]] * (dialogue.context_size - len(turns)) + turns
        batch = make_dialogue_batch([turns] * samples, [[vocab.unk_id]] * samples, vocab).to(device)
        rows = model.sample(batch, vocab.index[BOS], vocab.index[EOS], dialogue.utterance_length + 5, temperature,
                            top_k, greedy, generator)
        out.append([join_side(config.data.level, vocab.decode(row)) for row in rows])
    return out

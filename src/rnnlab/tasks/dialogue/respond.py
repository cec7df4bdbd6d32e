"""Responses from a trained dialogue run: sample (or pick greedily) given the last utterances."""

from __future__ import annotations

import torch

from rnnlab.tasks.dialogue.data import drop_mentions, make_dialogue_batch
from rnnlab.tasks.seq2seq.data import BOS, join_side, split_side
from rnnlab.data.tokenize import EOS, TextTokenizer, TokenizerConfig, load_vocabulary
from rnnlab.config import RunConfig
from rnnlab.tasks.dialogue.config import DialogueConfig
from rnnlab.runs import RunDir
from rnnlab.tasks.base import TrainedRun, load_weights
from rnnlab.tasks.dialogue.train import build_dialogue_model


def open_dialogue_run(run: RunDir, config: RunConfig, which: str = "best", device="cpu") -> TrainedRun:
    """A dialogue run directory: vocabulary, tokeniser and weights; `assets` holds its DialogueConfig."""
    vocab, payload = load_vocabulary(run.vocab_path)
    tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
    dialogue = DialogueConfig.of(config)
    model = load_weights(build_dialogue_model(config, dialogue, vocab), run, which, device)
    return TrainedRun(run, config, tokenizer, vocab, model, torch.device(device), dialogue)


def respond(trained: TrainedRun, contexts: list[list[str]], samples: int = 1, temperature: float = 1.0,
            top_k: int = 0, greedy: bool = False, seed: int | None = None) -> list[list[str]]:
    """Responses (`samples` per context) to each context, a list of utterance strings (last = newest)."""
    config, dialogue, tokenizer, vocab, model = (trained.config, trained.assets, trained.tokenizer, trained.vocab,
                                                 trained.model)
    device = trained.device
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    out = []
    for context in contexts:
        turns = [vocab.encode(split_side(tokenizer, drop_mentions(u))[:dialogue.utterance_length]) or [vocab.unk_id]
                 for u in context[-dialogue.context_size:]]
        turns = [[vocab.unk_id]] * (dialogue.context_size - len(turns)) + turns
        batch = make_dialogue_batch([turns] * samples, [[vocab.unk_id]] * samples, vocab).to(device)
        rows = model.sample(batch, vocab.index[BOS], vocab.index[EOS], dialogue.utterance_length + 5, temperature,
                            top_k, greedy, generator)
        out.append([join_side(config.data.level, vocab.decode(row)) for row in rows])
    return out

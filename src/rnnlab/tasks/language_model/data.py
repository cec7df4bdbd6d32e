"""From a DataConfig to a vocabulary and token-id tensors for train / valid / test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.config import DataConfig, parse_split
from rnnlab.data import corpora
from rnnlab.data.text import read_text_file, read_text_source, split_contiguous
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.tasks.stream import StreamData


@dataclass
class TextSplits:
    texts: dict[str, str]      # split name -> raw text
    source: str                # what the user named, for messages


def read_splits(config: DataConfig) -> TextSplits:
    """Raw text per split: a named corpus's own splits, or one text cut contiguously."""
    name = config.corpus
    if name in corpora.EMBEDDED:
        text = corpora.python_stdlib_text()
    elif name in corpora.CORPORA:
        corpus = corpora.CORPORA[name]
        paths = corpora.locate(name)
        if corpus.splits:
            return TextSplits({s: read_text_file(paths[rel], config.encoding) for s, rel in corpus.splits.items()}, name)
        text = "".join(read_text_file(p, config.encoding) for p in paths.values())
    else:
        text = read_text_source(Path(name), config.encoding)
    train, valid, test = split_contiguous(text, parse_split(config.split))
    return TextSplits({"train": train, "valid": valid, "test": test}, name)


def build_vocabulary(tokenizer: TextTokenizer, train_tokens: list[str], config: DataConfig) -> Vocabulary:
    if tokenizer.config.level == "char":
        return Vocabulary.build(train_tokens, tokenizer.specials)
    return Vocabulary.build(train_tokens, tokenizer.specials, config.min_freq, config.max_vocab)


def encode(vocab: Vocabulary, tokens: list[str]) -> torch.Tensor:
    return torch.tensor(vocab.encode(tokens), dtype=torch.long)


def prepare_text(config: DataConfig, vocab: Vocabulary | None = None):
    """Tokenise every split; build the vocabulary from train unless one is given.

    Returns (tokenizer, vocab, {split: ids}). A given vocabulary (resume) must match the one
    the data would build, or the user is told the run and data disagree.
    """
    tokenizer = TextTokenizer(TokenizerConfig(level=config.level, lowercase=config.lowercase))
    splits = read_splits(config)
    tokens = {name: tokenizer.split(text) for name, text in splits.texts.items()}
    if not tokens["train"]:
        raise RnnlabError(f"{splits.source}: no training tokens after splitting")
    built = build_vocabulary(tokenizer, tokens["train"], config)
    if vocab is not None and vocab.tokens != built.tokens:
        raise RnnlabError(f"{splits.source}: its vocabulary ({len(built)} types) differs from the run's "
                          f"({len(vocab)} types); the data changed since the run began")
    vocab = vocab or built
    return tokenizer, vocab, {name: encode(vocab, toks) for name, toks in tokens.items()}


def prepare_text_run(config: DataConfig, run_folder: Path, resume: bool):
    """The language-model task's training data: vocabulary saved as vocab.json in the run."""
    saved = load_vocabulary(run_folder / "vocab.json")[0] if resume else None
    tokenizer, vocab, ids = prepare_text(config, saved)
    unit = "bpc" if config.level == "char" else "perplexity"
    summary = f"{ids['train'].numel():,} training tokens, vocabulary {len(vocab):,}"
    return StreamData(ids, len(vocab), unit, summary,
                      lambda folder: save_vocabulary(folder / "vocab.json", vocab, tokenizer.config))

"""word2vec through gensim: CBOW or skip-gram with negative sampling, on any corpus the core reads.

The text goes through the core tokeniser (word, char, or Japanese morphemes), one sentence
per line. The run directory holds config.json, vocab.json (words by falling frequency, with
counts) and checkpoints/last.pt with the vectors as a tensor; no gensim pickle.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.config import DataConfig, RunConfig, option
from rnnlab.progress import progress_bar
from rnnlab.tasks.language_model.data import read_splits
from rnnlab.data.tokenize import EOS, TextTokenizer, TokenizerConfig, Vocabulary, save_vocabulary
from rnnlab.data.corpora import corpus_on_disk
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.tasks.word2vec.vectors import WordVectors, load_word_vectors, read_analogy_lines
from rnnlab.locks import hold_run
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import save_checkpoint


@dataclass
class Word2VecConfig:
    corpus: str = option("", "text file, folder, or named corpus")
    level: str = option("word", "token level", ("word", "char", "ja"))
    lowercase: bool = option(False, "lowercase the text first")
    architecture: str = option("cbow", "cbow (context predicts the word) or skipgram", ("cbow", "skipgram"))
    dim: int = option(100, "vector size")
    window: int = option(5, "context words on each side")
    negative: int = option(5, "negative samples per positive one")
    min_count: int = option(5, "ignore words rarer than this")
    sample: float = option(1e-3, "down-sampling threshold for frequent words")
    epochs: int = option(5, "passes over the corpus")
    lr: float = option(0.025, "starting learning rate (alpha)")
    threads: int = option(2, "worker threads")
    seed: int = option(1, "random seed")
    encoding: str = option("auto", "text encoding")


def sentences_of(config: Word2VecConfig) -> tuple[list[list[str]], TextTokenizer]:
    """The corpus's training text (all of a single file) as token lists, one per line."""
    data = DataConfig(corpus=config.corpus, level=config.level, lowercase=config.lowercase,
                      encoding=config.encoding, split="1,0,0")
    tokenizer = TextTokenizer(TokenizerConfig(level=config.level, lowercase=config.lowercase))
    text = read_splits(data).texts["train"]
    if config.level == "char":
        return [list(line) for line in text.split("\n") if line], tokenizer
    sentences, current = [], []
    for token in tokenizer.split(text):
        if token == EOS:
            if current:
                sentences.append(current)
            current = []
        else:
            current.append(token)
    return sentences + ([current] if current else []), tokenizer


def train_word2vec(config: Word2VecConfig, out, log=print) -> WordVectors:
    try:
        import gensim.models  # noqa: F401  (used in train_into; missing, it is one line here)
    except ImportError:
        raise RnnlabError("word2vec needs gensim: pip install 'rnnlab[word2vec]'") from None
    for name in ("dim", "window", "negative", "min_count", "epochs", "threads"):
        if getattr(config, name) < (0 if name == "min_count" else 1):
            raise RnnlabError(f"--{name.replace('_', '-')} must be at least 1")
    config = dataclasses.replace(config, corpus=corpus_on_disk(config.corpus))
    run = RunDir(out)
    run.refuse_if_foreign()
    with hold_run(run.path):
        run.check_new()
        return train_into(run, config, log)


def epoch_ticks(bar):
    """A gensim callback that moves `bar` on at the end of each epoch."""
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochTicks(CallbackAny2Vec):
        def on_epoch_end(self, model) -> None:
            bar.update(1)

    return EpochTicks()


def train_into(run: RunDir, config: Word2VecConfig, log=print) -> WordVectors:
    """Train the vectors and write the run (its lock held)."""
    from gensim.models import Word2Vec

    sentences, tokenizer = sentences_of(config)
    tokens = sum(len(s) for s in sentences)
    if not (math.isfinite(config.lr) and config.lr > 0):
        raise RnnlabError("--lr must be a positive number")
    counts = Counter(word for sentence in sentences for word in sentence)
    if not any(count >= config.min_count for count in counts.values()):
        raise RnnlabError(f"{config.corpus}: no word occurs --min-count {config.min_count} times "
                          f"(the most frequent occurs {max(counts.values(), default=0)} times)")
    started = time.perf_counter()
    with progress_bar(total=config.epochs, desc="word2vec", unit="epoch") as bar:
        model = Word2Vec(sentences, vector_size=config.dim, window=config.window, min_count=config.min_count,
                         sg=int(config.architecture == "skipgram"), negative=config.negative, hs=0,
                         sample=config.sample, epochs=config.epochs, alpha=config.lr, workers=config.threads,
                         seed=config.seed, callbacks=[epoch_ticks(bar)])
    seconds = time.perf_counter() - started
    words = list(model.wv.index_to_key)
    vectors = WordVectors(words, model.wv.vectors)
    data = DataConfig(corpus=config.corpus, level=config.level, lowercase=config.lowercase, encoding=config.encoding,
                      task="word2vec")
    run.create(RunConfig(data=data))
    write_atomic(run.config_path, json.dumps({**RunConfig(data=data).to_dict(), "word2vec": dataclasses.asdict(config)},
                                             indent=2, ensure_ascii=False))
    counts = [int(model.wv.get_vecattr(w, "count")) for w in words]
    save_vocabulary(run.vocab_path, Vocabulary(words), tokenizer.config, {"counts": counts})
    save_checkpoint(run.last_checkpoint, {"vectors": torch.from_numpy(vectors.vectors.copy())})
    run.append_metrics({"sentences": len(sentences), "tokens": tokens, "vocabulary": len(words),
                        "seconds": round(seconds, 2), "words_per_second": round(tokens * config.epochs / max(seconds, 1e-9))})
    log(f"{config.corpus}: {config.architecture} {config.dim}-d vectors for {len(words):,} words "
        f"(min count {config.min_count}) from {tokens:,} tokens x {config.epochs} epochs in {seconds:.1f}s; run {run.path}")
    return vectors


def evaluate_analogies_run(path, analogy_file: str, restrict_vocab: int = 30000, case_insensitive: bool = True) -> dict:
    vectors = load_word_vectors(path)
    file = Path(analogy_file)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise RnnlabError(f"{file}: cannot read as UTF-8 text ({getattr(err, 'strerror', None) or err})") from None
    result = vectors.evaluate_analogies(read_analogy_lines(lines, str(file)), restrict_vocab, case_insensitive)
    result.update({"file": str(file), "method": "3CosAdd (compute-accuracy)", "restrict_vocab": restrict_vocab,
                   "case_insensitive": case_insensitive, "vocabulary": len(vectors.words)})
    return result

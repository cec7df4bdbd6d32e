"""`rnnlab word2vec` (train vectors with gensim), `rnnlab similar` and `rnnlab analogy`."""

from __future__ import annotations

import argparse
import dataclasses

from rnnlab.errors import RnnlabError
from rnnlab.tasks.word2vec.train import Word2VecConfig, train_word2vec
from rnnlab.tasks.word2vec.vectors import load_word_vectors


def add_word2vec_arguments(p) -> None:
    p.add_argument("corpus", help="text file, folder, or named corpus (rnnlab data list)")
    p.add_argument("--out", required=True, help="run directory to create")
    for f in dataclasses.fields(Word2VecConfig):
        if f.name == "corpus":
            continue
        flag, help_text = "--" + f.name.replace("_", "-"), f"{f.metadata.get('help', '')} (default: {f.default})"
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            p.add_argument(flag, type={"int": int, "float": float}.get(str(f.type), str), default=None,
                           help=help_text, choices=f.metadata.get("choices"))


def cmd_word2vec(args) -> int:
    fields = {f.name for f in dataclasses.fields(Word2VecConfig)}
    config = Word2VecConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
    train_word2vec(config, args.out)
    return 0


def add_similar_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("word")
    p.add_argument("--top", type=int, default=10)


def add_analogy_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("--top", type=int, default=5)


def word_vectors_for(args):
    """The run's word vectors for `similar` / `analogy`, once --top is known to make sense."""
    if args.top < 1:
        raise RnnlabError("--top must be at least 1")
    return load_word_vectors(args.run)


def cmd_similar(args) -> int:
    for word, similarity in word_vectors_for(args).most_similar(args.word, args.top):
        print(f"{similarity:.4f}\t{word}")
    return 0


def cmd_analogy(args) -> int:
    for word, similarity in word_vectors_for(args).analogy(args.a, args.b, args.c, args.top):
        print(f"{similarity:.4f}\t{word}")
    return 0

"""The word2vec task: word vectors trained by gensim (`rnnlab word2vec`), asked for neighbours and analogies."""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from rnnlab.commands import Command
from rnnlab.config import RunConfig
from rnnlab.runs import RunDir
from rnnlab.tasks.base import Task
from rnnlab.tasks.word2vec.vectors import WordVectors, load_word_vectors
from rnnlab.tasks.word2vec.vector_model import WordVectorModel


@dataclass
class VectorRun:
    """An opened word2vec run: its word vectors (computed on the CPU)."""

    run: RunDir
    config: RunConfig
    vectors: WordVectors
    device: torch.device
    threads: int = 0


class Word2VecTask(Task):
    name = "word2vec"
    description = "word vectors (CBOW / skip-gram with negative sampling, trained by gensim)"
    model_class = WordVectorModel
    commands = {"similar": Command("rnnlab.tasks.word2vec.commands:add_similar_arguments",
                                   "rnnlab.tasks.word2vec.commands:cmd_similar",
                                   "nearest words by cosine similarity in a word2vec run"),
                "analogy": Command("rnnlab.tasks.word2vec.commands:add_analogy_arguments",
                                   "rnnlab.tasks.word2vec.commands:cmd_analogy",
                                   "A - B + C: `king man woman` -> queen (3CosAdd)"),
                "word2vec": Command("rnnlab.tasks.word2vec.commands:add_word2vec_arguments",
                                    "rnnlab.tasks.word2vec.commands:cmd_word2vec",
                                    "train word vectors (CBOW / skip-gram, negative sampling) with gensim")}
    options = {}                 # trained by `rnnlab word2vec`, not `rnnlab train`
    evaluate_options = ("analogies", "restrict_vocab", "case_sensitive")

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "word2vec"

    def open(self, run: RunDir, config: RunConfig, which: str, device: torch.device) -> VectorRun:
        vectors = load_word_vectors(run.path)
        return VectorRun(run, config, vectors, torch.device("cpu"))

    def evaluate(self, args) -> int:
        from rnnlab.errors import RnnlabError
        from rnnlab.tasks.word2vec.train import evaluate_analogies_run

        if not args.analogies:
            raise RnnlabError(f"{args.run}: a word2vec run; evaluate it with --analogies FILE "
                              "(e.g. questions-words.txt)")
        result = evaluate_analogies_run(args.run, args.analogies, args.restrict_vocab, not args.case_sensitive)
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"{result['file']}: accuracy {100 * result['accuracy']:.2f}% on {result['seen']:,} of "
                  f"{result['total']:,} questions (coverage {100 * result['coverage']:.1f}%; semantic "
                  f"{100 * result['semantic_accuracy']:.2f}%, syntactic {100 * result['syntactic_accuracy']:.2f}%)")
        return 0

"""word2vec vectors on the Google analogy test: rnnlab's 3CosAdd scorer beside gensim's, same vectors.

    RNNLAB_DATA=DATA .venv/bin/python benchmarks/word2vec_analogy.py wikitext-2 --epochs 5
    .venv/bin/python benchmarks/word2vec_analogy.py --run runs/w2v      # score an existing run
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="ptb")
    parser.add_argument("--run", help="score this word2vec run instead of training one")
    parser.add_argument("--questions", help="the analogy file (default: $RNNLAB_DATA/analogy/questions-words.txt)")
    parser.add_argument("--architecture", default="cbow", choices=["cbow", "skipgram"])
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--restrict-vocab", type=int, default=30000)
    args = parser.parse_args()
    questions = args.questions or str(Path(os.environ.get("RNNLAB_DATA", ".")) / "analogy" / "questions-words.txt")
    from gensim.models import KeyedVectors

    from rnnlab.tasks.word2vec.train import Word2VecConfig, evaluate_analogies_run, train_word2vec
    from rnnlab.tasks.word2vec.vectors import load_word_vectors

    with tempfile.TemporaryDirectory() as scratch:
        run = args.run
        if not run:
            run = str(Path(scratch) / "w2v")
            train_word2vec(Word2VecConfig(corpus=args.corpus, architecture=args.architecture, dim=args.dim,
                                          epochs=args.epochs, min_count=args.min_count), run)
        started = time.perf_counter()
        ours = evaluate_analogies_run(run, questions, args.restrict_vocab)
        ours_s = time.perf_counter() - started
        vectors = load_word_vectors(run)
        keyed = KeyedVectors(vectors.dim)
        keyed.add_vectors(vectors.words, vectors.vectors)
        started = time.perf_counter()
        gensim_accuracy, _ = keyed.evaluate_word_analogies(questions, restrict_vocab=args.restrict_vocab,
                                                           case_insensitive=True)
        gensim_s = time.perf_counter() - started
    print(f"{args.run or args.corpus}: {len(vectors.words):,} words, {vectors.dim}-d")
    print(f"rnnlab 3CosAdd: accuracy {100 * ours['accuracy']:.2f}% on {ours['seen']:,} / {ours['total']:,} questions "
          f"(coverage {100 * ours['coverage']:.1f}%; semantic {100 * ours['semantic_accuracy']:.2f}%, "
          f"syntactic {100 * ours['syntactic_accuracy']:.2f}%) in {ours_s:.1f}s")
    print(f"gensim evaluate_word_analogies: accuracy {100 * gensim_accuracy:.2f}% in {gensim_s:.1f}s")


if __name__ == "__main__":
    main()

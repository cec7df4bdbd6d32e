"""Seconds per iteration of CBOW with negative sampling on PTB: rnnlab's NumPy engine vs the book's ch04.

The book's settings: window 5, 100 dimensions, batch 100, 5 negatives, Adam. Both run on one BLAS
thread, on the same word ids, for the same number of iterations, back to back.

    RNNLAB_DATA=DATA .venv/bin/python benchmarks/scratch_cbow.py --book deep-learning-from-scratch-2 --iterations 30
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]
from book import add_book_argument, lay_out  # noqa: E402


def ptb_ids() -> np.ndarray:
    words = (Path(os.environ["RNNLAB_DATA"]) / "ptb" / "ptb.train.txt").read_text().replace("\n", " <eos> ").split()
    index: dict[str, int] = {}
    return np.array([index.setdefault(w, len(index)) for w in words])


def time_ours(corpus, contexts, targets, iterations: int) -> float:
    from rnnlab.scratch.cbow import CBOW, UnigramSampler
    from rnnlab.scratch.optim import Adam
    rng = np.random.default_rng(0)
    vocab = int(corpus.max()) + 1
    model, sampler, optimizer = CBOW(vocab, 100, rng), UnigramSampler(corpus, vocab), Adam()
    started = time.perf_counter()
    for i in range(iterations):
        rows = rng.integers(0, len(targets), 100)
        model.forward(contexts[rows], targets[rows], sampler.sample((100, 5), rng))
        model.backward()
        optimizer.update(model.params, model.grads)
    return (time.perf_counter() - started) / iterations


def time_book(corpus, contexts, targets, iterations: int, code: Path) -> float:
    with tempfile.TemporaryDirectory() as book:
        lay_out(code, Path(book))
        sys.path[:0] = [book, str(Path(book) / "ch04")]
        from cbow import CBOW as BookCBOW
        from common.optimizer import Adam as BookAdam
        model, optimizer = BookCBOW(int(corpus.max()) + 1, 100, 5, corpus), BookAdam()
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        for i in range(iterations):
            rows = rng.integers(0, len(targets), 100)
            model.forward(contexts[rows], targets[rows])
            model.backward()
            optimizer.update(model.params, model.grads)
        return (time.perf_counter() - started) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30)
    add_book_argument(parser)
    args = parser.parse_args()
    from rnnlab.scratch.cbow import contexts_and_targets
    corpus = ptb_ids()
    contexts, targets = contexts_and_targets(corpus, 5)
    ours = time_ours(corpus, contexts, targets, args.iterations)
    book = time_book(corpus, contexts, targets, args.iterations, args.book)
    per_epoch = len(targets) // 100
    print(f"PTB {len(corpus):,} words, {per_epoch:,} iterations per epoch; load average {os.getloadavg()[0]:.1f}")
    print(f"book ch04 CBOW: {book:.4f} s/iteration ({book * per_epoch / 60:.1f} min/epoch)")
    print(f"rnnlab scratch CBOW: {ours:.4f} s/iteration ({ours * per_epoch / 60:.1f} min/epoch), "
          f"{book / ours:.1f}x faster")


if __name__ == "__main__":
    main()

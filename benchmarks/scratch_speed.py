"""Words/s of the NumPy engine against the book's own NumPy code (ch06 Rnnlm), measured in one run.

The book's config: PTB, one LSTM layer, wordvec 100, hidden 100, batch 20, 35 steps, SGD lr 20,
clip 0.25. The book's code (--book: a clone of oreilly-japan/deep-learning-from-scratch-2) is
copied into a temporary folder with PTB from $RNNLAB_DATA and trained through its own RnnlmTrainer.fit; ours through the NumPy engine's train step. Rounds
alternate (book, ours, book, ours, ...) so that load from other processes hits both alike; the
script prints words/s per round, the medians and their ratio.

    RNNLAB_DATA=DATA python benchmarks/scratch_speed.py --book deep-learning-from-scratch-2 [--steps 40] [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from book import add_book_argument, lay_out  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="training steps (35x20 words each) per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="BLAS threads for both (0: OpenBLAS default)")
    add_book_argument(parser)
    return parser.parse_args()


def book_trainer(folder: Path, steps: int):
    """A function that trains the book's Rnnlm for `steps` windows and returns the seconds taken."""
    sys.path[:0] = [str(folder), str(folder / "ch06")]
    import numpy as np
    from common.optimizer import SGD
    from common.trainer import RnnlmTrainer
    from dataset import ptb
    from rnnlm import Rnnlm

    corpus, word_to_id, _ = ptb.load_data("train")
    words = steps * 20 * 35
    xs, ts = corpus[:words], corpus[1:words + 1]      # the epoch is exactly `steps` windows
    np.random.seed(0)
    model = Rnnlm(len(word_to_id), 100, 100)
    trainer = RnnlmTrainer(model, SGD(20.0))

    def run() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        trainer.fit(xs, ts, max_epoch=1, batch_size=20, time_size=35, max_grad=0.25, eval_interval=None)
        return time.perf_counter() - started, time.process_time() - cpu
    return run, len(word_to_id)


def our_trainer(steps: int):
    from rnnlab.config import build_config
    from rnnlab.tasks.language_model.data import prepare_text
    from rnnlab.data.streams import batchify, windows
    from rnnlab.scratch.adapter import LMAdapter
    from rnnlab.scratch.trainer import NumpyTrainer, numpy_model_for
    from rnnlab.train.distributed import Placement

    config = build_config("", {"data": {"corpus": "ptb", "level": "word"},
                               "model": {"cell": "lstm", "layers": 1, "hidden": 100, "embed": 100},
                               "train": {"optimizer": "sgd", "lr": 20.0, "clip": 0.25, "batch_size": 20,
                                         "bptt": 35, "engine": "numpy"}})
    _, vocab, ids = prepare_text(config.data)
    model = numpy_model_for(config, len(vocab))
    trainer = NumpyTrainer(LMAdapter(model), config.train, Placement(0, 1, None), run=None)
    data = batchify(ids["train"], 20)

    def run() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        for _, inputs, targets in itertools.islice(windows(data, 35), steps):    # the trainer's own loop
            trainer.train_step(inputs, targets)
        return time.perf_counter() - started, time.process_time() - cpu
    return run, len(vocab)


def main() -> None:
    args = parse_args()
    if args.threads:                       # before NumPy loads OpenBLAS
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    words = args.steps * 20 * 35
    with tempfile.TemporaryDirectory() as folder:
        lay_out(args.book, Path(folder))
        book, book_vocab = book_trainer(Path(folder), args.steps)
        ours, our_vocab = our_trainer(args.steps)
        print(f"PTB vocabulary: book {book_vocab:,}, rnnlab {our_vocab:,}; {args.steps} steps of 20x35 words "
              f"per round; BLAS threads: {args.threads or 'default'}; load average {os.getloadavg()[0]:.1f}")
        book(), ours()                      # warm up: first-touch allocations, BLAS start
        wall, cpu = {"book": [], "rnnlab": []}, {"book": [], "rnnlab": []}
        for round_number in range(1, args.rounds + 1):
            for name, run in (("book", book), ("rnnlab", ours)):
                seconds, cpu_seconds = run()
                wall[name].append(words / seconds)
                cpu[name].append(words / cpu_seconds)
            print(f"round {round_number}: book {wall['book'][-1]:8,.0f} words/s   "
                  f"rnnlab numpy {wall['rnnlab'][-1]:8,.0f} words/s   "
                  f"ratio {wall['rnnlab'][-1] / wall['book'][-1]:.2f}x   "
                  f"(per CPU second: {cpu['book'][-1]:,.0f} vs {cpu['rnnlab'][-1]:,.0f})")
    for label, rates in (("wall clock", wall), ("per CPU second", cpu)):
        book_median, ours_median = statistics.median(rates["book"]), statistics.median(rates["rnnlab"])
        print(f"median, {label}: book {book_median:,.0f} words/s, rnnlab numpy engine {ours_median:,.0f} "
              f"words/s -> {ours_median / book_median:.2f}x")
    print(f"load average now {os.getloadavg()[0]:.1f}; with one BLAS thread, words per CPU second is what "
          "an idle core would give")


if __name__ == "__main__":
    main()

"""rnnlab's seq2seq against the book's NumPy code (ゼロから作るDeep Learning ❷, ch07-08), in one run.

For each case, trains the book's model (its code unchanged, from --book: a clone of
oreilly-japan/deep-learning-from-scratch-2) and rnnlab's at the book's sizes (embed 16, hidden 128 / 256, batch 128, Adam 1e-3, clip 5), one
epoch at a time, and prints exact match on the book's 5,000-row test split and train seconds
per epoch. The machine's cores are shared, so both run back to back under the same load.

    RNNLAB_DATA=DATA .venv/bin/python benchmarks/seq2seq_book.py --book deep-learning-from-scratch-2 --epochs 2
    RNNLAB_DATA=DATA .venv/bin/python benchmarks/seq2seq_book.py --cases add-peeky --epochs 25 --no-book
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]
from book import add_book_argument, lay_out  # noqa: E402
from rnnlab.train.callbacks import Callback  # noqa: E402

# The book's ch07/ch08 training, driven one epoch at a time (batch 128, Adam, clip 5, reversed input
# except the plain addition model); run in its own process so that its BLAS threads can be set.
BOOK_DRIVER = """
import json, sys, time
import numpy as np
task, variant, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
from dataset import sequence
from common.optimizer import Adam
from common.trainer import Trainer
from common.util import eval_seq2seq
np.random.seed(0)
(x_train, t_train), (x_test, t_test) = sequence.load_data("addition.txt" if task == "add" else "date.txt")
char_to_id, id_to_char = sequence.get_vocab()
reverse = not (task == "add" and variant == "base")
if reverse:
    x_train, x_test = x_train[:, ::-1], x_test[:, ::-1]
if variant in ("base", "rev"):
    from seq2seq import Seq2seq as Model
elif variant == "peeky":
    from peeky_seq2seq import PeekySeq2seq as Model
else:
    from attention_seq2seq import AttentionSeq2seq as Model
model = Model(len(char_to_id), 16, 128 if task == "add" else 256)
trainer = Trainer(model, Adam())
for epoch in range(1, epochs + 1):
    started, cpu = time.time(), time.process_time()
    trainer.fit(x_train, t_train, max_epoch=1, batch_size=128, max_grad=5.0, eval_interval=None)
    trained, cpu = time.time(), time.process_time() - cpu
    correct = sum(eval_seq2seq(model, x_test[[i]], t_test[[i]], id_to_char, False, reverse) for i in range(len(x_test)))
    print(json.dumps({"epoch": epoch, "exact_match_percent": round(100 * correct / len(x_test), 2),
                      "train_s": round(trained - started, 2), "train_cpu_s": round(cpu, 2),
                      "eval_s": round(time.time() - trained, 2)}), flush=True)
"""
# case -> (book task, book variant, rnnlab corpus, preset, seq2seq overrides)
CASES = {
    "add-plain": ("add", "base", "addition", "book-seq2seq", {}),
    "add-rev": ("add", "rev", "addition", "book-seq2seq", {"reverse_source": True}),
    "add-peeky": ("add", "peeky", "addition", "book-peeky", {}),
    "date-attn": ("date", "attn", "date", "book-attention", {}),
}


def run_book(case: str, epochs: int, book_dir: Path, threads: int) -> list[dict]:
    task, variant = CASES[case][:2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(book_dir / sub) for sub in ("", "ch07", "ch08"))}
    if threads:      # BLAS threads thrash when the cores are shared; 0 leaves NumPy's default
        env.update({name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    out = subprocess.run([sys.executable, "-c", BOOK_DRIVER, task, variant, str(epochs)], env=env, cwd=book_dir,
                         capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def run_rnnlab(case: str, epochs: int, folder: Path, threads: int, bf16: bool, book_padding: bool,
               lr: float = 1e-3) -> list[dict]:
    from rnnlab.config import build_config
    from rnnlab.tasks.registry import train

    _, _, corpus, preset, extra = CASES[case]
    # the book's settings by default (lr 1e-3, no schedule); lr 0: the preset's own recipe
    options = {"epochs": epochs, "threads": threads, "bf16": bf16, **({"lr": lr, "schedule": "none"} if lr else {})}
    config = build_config(preset, {"data": {"corpus": corpus}, "train": options,
                                   "seq2seq": {**extra, "dev_limit": 0, "book_padding": book_padding}})
    clock = TrainingCpu()
    records = train(config, folder / case, callbacks=[clock], log=lambda line: None)
    for record, seconds in zip(records, clock.per_epoch):
        record["train_cpu_s"] = round(seconds, 2)
    if case == "date-attn":
        print(month_alignment(folder / case))
    previous = 0.0
    for record in records:
        record["train_s"], previous = record["elapsed_s"] - previous, record["elapsed_s"]
    return records


class TrainingCpu(Callback):
    """CPU seconds of each epoch's training steps (validation left out), as the book's figure is:
    on a machine shared with other work, CPU time moves far less than wall time."""

    def __init__(self):
        self.per_epoch: list[float] = []
        self.started = self.last_step = 0.0

    def epoch_started(self, trainer, batches: int, done: int) -> None:
        self.started = self.last_step = time.process_time()

    def step_done(self, trainer, info: dict) -> None:
        self.last_step = time.process_time()

    def epoch_ended(self, trainer, record: dict) -> None:
        self.per_epoch.append(self.last_step - self.started)


def month_alignment(run: Path, text: str = "september 27, 1994") -> str:
    """Where the output month's attention peaks on the book's example (source in reading order)."""
    from rnnlab.tasks.registry import open_run
    from rnnlab.tasks.seq2seq.translate import translate
    hypothesis, tokens = translate(open_run(run), text)
    best = hypothesis[0]
    peaks = [tokens[int(best.weights[i].argmax())] + f"@{int(best.weights[i].argmax())}" for i in (5, 6)]
    on_month = all(int(best.weights[i].argmax()) < len("september") for i in (5, 6))
    return (f"date alignment: {text!r} -> {''.join(best.tokens)!r}; month digits attend most to {peaks} "
            f"({'inside' if on_month else 'not inside'} 'september')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["add-peeky", "date-attn"], choices=sorted(CASES))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="rnnlab's CPU threads")
    parser.add_argument("--lr", type=float, default=1e-3,
                        help="rnnlab's learning rate, no schedule (default: the book's 1e-3; 0: the preset's lr and schedule)")
    parser.add_argument("--bf16", action="store_true", help="rnnlab trains under bfloat16 autocast")
    parser.add_argument("--book-padding", action=argparse.BooleanOptionalAction, default=True,
                        help="rnnlab keeps the book's padding spaces (as its default)")
    parser.add_argument("--no-book", action="store_true", help="skip the book's code")
    add_book_argument(parser, required=False)
    parser.add_argument("--book-threads", type=int, default=1, help="BLAS threads for the book's NumPy (0: default)")
    args = parser.parse_args()
    if not args.no_book and args.book is None:
        parser.error("--book PATH is required (or --no-book): git clone "
                     "https://github.com/oreilly-japan/deep-learning-from-scratch-2 and pass its folder")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if not args.no_book:
            lay_out(args.book, scratch / "book")
        for case in args.cases:
            load = os.getloadavg()[0]
            book = [] if args.no_book else run_book(case, args.epochs, scratch / "book", args.book_threads)
            started = time.perf_counter()
            ours = run_rnnlab(case, args.epochs, scratch, args.threads, args.bf16, args.book_padding, args.lr)
            print(f"\n{case}: rnnlab threads={args.threads} bf16={args.bf16} lr={args.lr or 'preset'} "
                  f"book_padding={args.book_padding}; "
                  f"book BLAS threads={args.book_threads or 'default'}; "
                  f"load average {load:.1f} at start; rnnlab wall {time.perf_counter() - started:.0f}s")
            print(f"{'epoch':>5} {'book EM %':>10} {'book s':>7} {'book CPU s':>10} {'rnnlab EM %':>12} "
                  f"{'rnnlab s':>8} {'rnnlab CPU s':>12} {'speed-up (CPU)':>15}")
            nan = float("nan")
            for epoch in range(args.epochs):
                b = book[epoch] if epoch < len(book) else {}
                o = ours[epoch] if epoch < len(ours) else {}
                speed = f"{b['train_s'] / o['train_s']:.2f}x ({b['train_cpu_s'] / o['train_cpu_s']:.2f}x)" if b and o else "-"
                print(f"{epoch + 1:>5} {b.get('exact_match_percent', nan):>10.2f} {b.get('train_s', nan):>7.1f} "
                      f"{b.get('train_cpu_s', nan):>10.1f} {100 * o.get('valid_exact_match', nan):>12.2f} "
                      f"{o.get('train_s', nan):>8.1f} {o.get('train_cpu_s', nan):>12.1f} {speed:>15}", flush=True)


if __name__ == "__main__":
    main()

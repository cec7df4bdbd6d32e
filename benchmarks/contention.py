"""Speed under contention: each workload at 1 and 2 threads, PyTorch's default and rnnlab's (a thread
tuner timing the work), with 0, 1 and 2 other busy processes on the machine.

A busy process is a Python loop that never sleeps, as a browser tab or a compile would be; the
busy processes of a load level start first and keep running through its cells. Each cell runs
the workload in a fresh process for a fixed time and prints its rate; the rnnlab default column
is what a user gets without choosing. Workloads are synthetic (no data needed):

    serve-step    one batch-1 float32 step of a 2x650 LSTM over a 10,000-word vocabulary, through the
                  packed weights `rnnlab serve` steps with (ms/step)
    generate      the same step and a sample drawn from it, as `rnnlab generate` (ms/token)
    train-lm      training steps of a 2x200 LSTM language model, bptt 35, batch 20 (words/s)
    train-pairs   training steps of the book's peeky seq2seq size (1x128, batch 128) (pairs/s)
    train-dialogue  training steps of an HRED dialogue model (2x256, three 12-token context utterances,
                  12-token responses, 8,000 words, batch 32) (responses/s)
    train-music   training steps of the poly-lstm piano-roll model (1x256, 88 keys, bptt 32, batch 8)
                  (frames/s)
    beam          beam search (width 5) of the date attention model (1x256), 200 sources at a time, as
                  `rnnlab evaluate RUN --beam 5` does it, its steps timed one by one (sources/s)

    python benchmarks/contention.py [--seconds 8] [--loads 0 1 2] [--workloads serve-step train-lm]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")

WORKLOAD = r'''
import json, sys, time
threads, kind, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
import torch
from rnnlab.train.threads import timed, tuner_for
tuner = tuner_for(threads) if threads >= 0 else None     # -1: PyTorch's own default, every core
from rnnlab.config import ModelConfig, RunConfig, DataConfig, TrainConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
torch.manual_seed(0)
if kind in ("serve-step", "generate"):
    from rnnlab.generate.sampling import SamplingConfig, choose
    from rnnlab.generate.stepper import Stepper
    from rnnlab.tasks.language_model.model import build_language_model
    config = RunConfig(DataConfig(level="word"), ModelConfig(layers=2, hidden=650))
    model = Stepper(build_language_model(config, 10_000).eval(), "fp32")
    state, token = model.initial_state(1), torch.zeros(1, 1, dtype=torch.long)
    sampling = SamplingConfig()
    def step():
        global state, token
        logits, state = model.step_logits(token, state)
        if kind == "generate":
            token = choose(logits, sampling, None).view(1, 1)
        return 1
elif kind == "train-music":
    from rnnlab.tasks.pianoroll.model import PianorollModel
    model = PianorollModel(ModelConfig(layers=1, hidden=256, dropout=0.3))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    frames = (torch.rand(33, 8, 89) < 0.05).float()
    frames[..., 88] = 0
    inputs, targets = frames[:-1], frames[1:]
elif kind == "train-lm":
    from rnnlab.tasks.language_model.model import build_language_model
    config = RunConfig(DataConfig(level="word"), ModelConfig(layers=2, hidden=200))
    model = build_language_model(config, 10_000)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    inputs, targets = torch.randint(0, 10_000, (35, 20)), torch.randint(0, 10_000, (35, 20))
elif kind == "train-pairs":
    from rnnlab.tasks.seq2seq.model import build_seq2seq
    model = build_seq2seq(ModelConfig(layers=1, hidden=128, embed=16), Seq2SeqConfig(decoder="peeky"), 14, 15)
    optimizer = torch.optim.Adam(model.parameters())
    source, lengths = torch.randint(2, 14, (7, 128)), torch.full((128,), 7)
    target_in, target_out = torch.randint(2, 15, (5, 128)), torch.randint(2, 15, (5, 128))
    def step():
        nll, tokens = model(source, lengths, target_in, target_out)
        optimizer.zero_grad(); (nll / tokens).backward(); optimizer.step()
        return 128
elif kind == "train-dialogue":
    from rnnlab.tasks.dialogue.config import DialogueConfig
    from rnnlab.tasks.dialogue.data import DialogueBatch
    from rnnlab.tasks.dialogue.model import DialogueModel
    model = DialogueModel(ModelConfig(layers=2, hidden=256), DialogueConfig(), 8_000)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    words = lambda *shape: torch.randint(2, 8_000, shape)
    batch = DialogueBatch(words(12, 3 * 32), torch.full((3 * 32,), 12), words(38, 32), torch.full((32,), 38),
                          words(13, 32), words(13, 32), torch.full((32,), 13), 3)
    def step():
        out = model(batch)
        optimizer.zero_grad(); (out.nll_sum / out.tokens).backward(); optimizer.step()
        return 32
elif kind == "beam":
    from rnnlab.tasks.seq2seq.model import build_seq2seq
    from rnnlab.tasks.seq2seq.translate import beam_search_batch
    model = build_seq2seq(ModelConfig(layers=1, hidden=256, embed=16),
                          Seq2SeqConfig(decoder="attention", attention="dot", input_feeding=False), 59, 15).eval()
    source, lengths = torch.randint(3, 59, (29, 200)), torch.full((200,), 29)
    def step():
        beam_search_batch(model, source, lengths, 1, 2, 5, 11, keep_weights=False, threads=tuner)
        return 200
if kind in ("train-music", "train-lm"):            # a stream: the state carries over, detached
    from rnnlab.models.recurrent import detach_state
    state = model.initial_state(inputs.size(1))
    def step():
        global state
        out = model(inputs, detach_state(state), targets)
        optimizer.zero_grad(); (out.nll_sum / out.tokens).backward(); optimizer.step()
        state = out.state
        return inputs.size(0) * inputs.size(1)
outer = None if kind == "beam" else tuner       # beam search times its own steps
step(); step()
done, started = 0, time.perf_counter()
while time.perf_counter() - started < seconds:
    with timed(outer):
        done += step()
elapsed = time.perf_counter() - started
print(json.dumps({"rate": done / elapsed, "threads": torch.get_num_threads()}))
'''
UNITS = {"serve-step": "ms/step", "generate": "ms/token", "train-lm": "words/s", "train-pairs": "pairs/s",
         "train-dialogue": "responses/s", "train-music": "frames/s", "beam": "sources/s"}
PER_CALL = ("serve-step", "generate")          # printed as milliseconds per call, lower is better


def measure(kind: str, threads: int, seconds: float) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", WORKLOAD, str(threads), kind, str(seconds)], env=env,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    rate = result["rate"]
    return (1000 / rate if kind in PER_CALL else rate), result["threads"]


def busy(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per cell")
    parser.add_argument("--loads", type=int, nargs="+", default=[0, 1, 2], help="other busy processes")
    parser.add_argument("--workloads", nargs="+", default=list(UNITS), choices=list(UNITS))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, -1, 0],
                        help="thread counts; -1: PyTorch's default (every core), 0: rnnlab's (tuned)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.seconds:g} s per cell; (n) = the thread count at the end")
    headings = [{0: "rnnlab default", -1: "torch default"}.get(t, f"threads {t}") for t in args.threads]
    print(f"{'workload':14} {'busy':>4} " + " ".join(f"{heading:>16}" for heading in headings))
    for load in args.loads:
        others = busy(load)
        try:
            time.sleep(1.0)
            for kind in args.workloads:
                cells = []
                for threads in args.threads:
                    rate, used = measure(kind, threads, args.seconds)
                    cells.append(f"{rate:10,.1f} ({used})")
                print(f"{kind:14} {load:>4} " + " ".join(f"{c:>16}" for c in cells) + f"  {UNITS[kind]}",
                      flush=True)
        finally:
            for process in others:
                process.kill()


if __name__ == "__main__":
    main()

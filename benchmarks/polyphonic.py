"""Polyphonic music benchmark: RNN, LSTM and GRU on JSB Chorales (or another set), test frame NLL.

Each model trains through the same `rnnlab train` path and recipe (the poly-lstm preset: pianoroll
tokenizer, stateful TBPTT over the joined pieces, early stopping) within a time budget, scored by the
benchmark's protocol (state reset per sequence, first frame unscored, sum over 88 keys, mean
over frames). The table prints beside published figures. Needs the set in $RNNLAB_DATA
(or `rnnlab data get jsb`).

    python benchmarks/polyphonic.py [--corpus jsb] [--cells rnn,lstm,gru] [--minutes 4] [--nade]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from rnnlab.config import build_config
from rnnlab.tasks.music.evaluate import evaluate_midi_run
from rnnlab.tasks.registry import train

# Test frame NLL (nats), as published. Bai et al. 2018 = the TCN paper; Chung et al. 2014 reports
# its best of tanh/GRU/LSTM (~20k parameters); RNN-NADE models the keys of a frame in turn.
PUBLISHED = {
    "jsb": {"lstm": ("8.45", "Bai et al. 2018"), "gru": ("8.43", "Bai et al. 2018")},
    "nottingham": {"lstm": ("3.29", "Bai et al. 2018")},
}
REFERENCES = {
    "jsb": [("per-key rate learned from train, no time", "11.09"), ("Chung et al. 2014, best of 3 cells", "8.54"),
            ("TCN (Bai et al. 2018)", "8.10"), ("RNN-NADE (Boulanger-Lewandowski et al. 2012)", "5.56")],
    "nottingham": [("per-key rate, no time", "10.26"), ("Chung et al. 2014, best of 3 cells", "3.13"),
                   ("TCN (Bai et al. 2018)", "3.07")],
}


def run_one(corpus: str, cell: str, head: str, minutes: float, threads: int, folder: Path) -> dict:
    """One cell trained with the poly-lstm / poly-nade preset (the same recipe for every cell)."""
    config = build_config(f"poly-{'nade' if head == 'nade' else 'lstm'}", {
        "data": {"corpus": corpus}, "model": {"cell": cell},
        "train": {"max_minutes": minutes, "threads": threads, "checkpoint_every": 0}})
    started = time.perf_counter()
    records = train(config, folder, log=lambda line: None)
    seconds = time.perf_counter() - started
    valid = evaluate_midi_run(folder, "valid", device="cpu")
    test = evaluate_midi_run(folder, "test", device="cpu")
    params = sum(p.numel() for p in torch.load(folder / "checkpoints" / "best.pt", weights_only=True)["model"].values())
    return {"cell": cell, "head": head, "params": params, "epochs": len(records), "minutes": seconds / 60,
            "valid": valid["nll"], "test": test["nll"], "frames": test["frames"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="jsb", choices=["jsb", "nottingham", "musedata", "piano-midi"])
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--minutes", type=float, default=4.0, help="training budget per model")
    parser.add_argument("--nade", action="store_true", help="also an LSTM with the NADE frame head")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="keep the run directories here (default: a temporary folder)")
    args = parser.parse_args()

    jobs = [(cell, "bernoulli") for cell in args.cells.split(",")] + ([("lstm", "nade")] if args.nade else [])
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.out or scratch)
        for cell, head in jobs:
            rows.append(run_one(args.corpus, cell, head, args.minutes, args.threads, root / f"{cell}-{head}"))
            print(f"  {cell}/{head}: test {rows[-1]['test']:.3f} after {rows[-1]['minutes']:.1f} min", flush=True)

    published = PUBLISHED.get(args.corpus, {})
    print(f"\n{args.corpus}: test frame NLL (nats per frame, sum over 88 keys; {rows[0]['frames']:,} scored frames), "
          f"1x256, dropout 0.3, Adam, <= {args.minutes:g} min each on {torch.get_num_threads()} CPU thread(s)\n")
    print("| model | parameters | epochs | minutes | valid | test | published |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        name = row["cell"].upper() + (" + NADE head" if row["head"] == "nade" else "")
        figure, source = published.get(row["cell"], ("—", "")) if row["head"] == "bernoulli" else ("—", "")
        print(f"| {name} | {row['params']:,} | {row['epochs']} | {row['minutes']:.1f} | {row['valid']:.3f} | "
              f"{row['test']:.3f} | {figure} {source} |")
    for label, figure in REFERENCES.get(args.corpus, []):
        print(f"| {label} | | | | | | {figure} |")


if __name__ == "__main__":
    main()

"""Polyphonic music benchmark: test frame NLL on JSB Chorales, Nottingham, MuseData and Piano-midi.de.

Each model trains through the same `rnnlab train` path and recipe (the poly-lstm / poly-nade
presets; for the Bernoulli head poly-lstm-512 on JSB and two layers on Nottingham: pianoroll
tokenizer, TBPTT over the joined pieces, each piece from the zero state, early stopping; the
Bernoulli recipes score the moving average of the weights) within a time budget, scored by the
benchmark's protocol (state reset per sequence, first frame unscored, sum over 88 keys, mean
over frames). The table prints beside published figures. Needs the sets
in $RNNLAB_DATA (or `rnnlab data get jsb`, ...).

    python benchmarks/polyphonic.py [--corpus jsb] [--cells rnn,lstm,gru] [--minutes 4] [--nade]
    python benchmarks/polyphonic.py --corpora jsb nottingham musedata piano-midi --minutes 5 jsb/nade=10

The first form compares cells on one set; the second trains an LSTM with each frame head
(`--heads bernoulli,nade`) on every set and prints one row per set. `--minutes` takes a default
and KEY=N overrides, KEY a set, a head or SET/HEAD (jsb=3 nade=8 jsb/nade=10).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from rnnlab.config import build_config
from rnnlab.tasks.pianoroll.evaluate import evaluate_pianoroll_run
from rnnlab.tasks.registry import open_run, train

CORPORA = ["jsb", "nottingham", "musedata", "piano-midi"]
TITLES = {"jsb": "JSB Chorales", "nottingham": "Nottingham", "musedata": "MuseData", "piano-midi": "Piano-midi.de"}
HEADS = {"bernoulli": "poly-lstm", "nade": "poly-nade"}
# The one-row-per-set table's recipe where a set has its own: a preset and model options on top (JSB is
# small: a wider LSTM with more dropout; Nottingham's 694 training tunes, 7 times over with the
# transposed copies, take a second layer).
SET_RECIPES = {("jsb", "bernoulli"): ("poly-lstm-512", {}),
               ("nottingham", "bernoulli"): ("poly-lstm", {"layers": 2})}

# Test frame NLL (nats), as published. Bai et al. 2018 = the TCN paper (JSB and Nottingham only);
# Chung et al. 2014 reports its best of tanh/GRU/LSTM (~20k parameters); RNN-NADE
# (Boulanger-Lewandowski et al. 2012) models the keys of a frame in turn.
PUBLISHED = {
    "jsb": {"lstm": ("8.45", "Bai et al. 2018"), "gru": ("8.43", "Bai et al. 2018")},
    "nottingham": {"lstm": ("3.29", "Bai et al. 2018"), "gru": ("3.46", "Bai et al. 2018")},
}
REFERENCES = {
    "jsb": [("per-key rate learned from train, no time", "11.09"), ("Chung et al. 2014, best of 3 cells", "8.54"),
            ("TCN (Bai et al. 2018)", "8.10"), ("RNN-NADE (Boulanger-Lewandowski et al. 2012)", "5.56")],
    "nottingham": [("per-key rate, no time", "10.26"), ("Chung et al. 2014, best of 3 cells", "3.13"),
                   ("TCN (Bai et al. 2018)", "3.07"), ("RNN-NADE (Boulanger-Lewandowski et al. 2012)", "2.31")],
    "musedata": [("per-key rate, no time", "11.51"), ("Chung et al. 2014, best of 3 cells", "5.99"),
                 ("RNN-NADE (Boulanger-Lewandowski et al. 2012)", "5.60")],
    "piano-midi": [("per-key rate, no time", "11.05"), ("Chung et al. 2014, best of 3 cells", "8.82"),
                   ("RNN-NADE (Boulanger-Lewandowski et al. 2012)", "7.05")],
}
# For the one-row-per-set table: frame-independent outputs (TCN / LSTM / GRU, Bai et al. 2018) and
# RNN-NADE; None where the paper has no figure for that set.
PUBLISHED_BY_HEAD = {
    "bernoulli": {"jsb": "8.10 / 8.45 / 8.43", "nottingham": "3.07 / 3.29 / 3.46", "musedata": None,
                  "piano-midi": None},
    "nade": {"jsb": "5.56", "nottingham": "2.31", "musedata": "5.60", "piano-midi": "7.05"},
}
HEAD_TITLES = {"bernoulli": "Bernoulli head (`poly-lstm`; JSB `poly-lstm-512`, Nottingham 2 layers), test",
               "nade": "NADE head (`poly-nade`), test"}
PUBLISHED_LABEL = {"bernoulli": "published, keys independent: TCN / LSTM / GRU (Bai et al. 2018)",
                   "nade": "published: RNN-NADE (Boulanger-Lewandowski et al. 2012)"}


def budget(specs: list[str], corpus: str, head: str) -> float:
    """Minutes for one model: the last plain number, overridden by SET=, HEAD= and SET/HEAD= (most specific wins)."""
    minutes, rank = 4.0, -1
    for spec in specs:
        key, _, value = spec.rpartition("=")
        level = {"": 0, corpus: 1, head: 1, f"{corpus}/{head}": 2}.get(key)
        if level is not None and level >= rank:
            minutes, rank = float(value), level
    return minutes


def check_specs(specs: list[str], parser: argparse.ArgumentParser) -> None:
    keys = set(CORPORA) | set(HEADS) | {f"{c}/{h}" for c in CORPORA for h in HEADS} | {""}
    for spec in specs:
        key, _, value = spec.rpartition("=")
        try:
            ok = key in keys and float(value) > 0
        except ValueError:
            ok = False
        if not ok:
            parser.error(f"--minutes {spec}: give N or KEY=N with N > 0, KEY a set, a head or SET/HEAD")


def recipe_for(corpus: str, head: str, per_set: bool) -> tuple[str, dict]:
    """(preset, model options over it) for one set and head."""
    return SET_RECIPES.get((corpus, head), (HEADS[head], {})) if per_set else (HEADS[head], {})


def command(corpus: str, head: str, minutes: float, threads: int) -> str:
    """The `rnnlab train` line that trains the same model."""
    name, model = recipe_for(corpus, head, per_set=True)
    preset = "" if name == "poly-lstm" else f" --preset {name}"
    options = "".join(f" --{key.replace('_', '-')} {value}" for key, value in model.items())
    return (f"rnnlab train {corpus}{preset}{options} --threads {threads} --max-minutes {minutes:g} "
            f"--out runs/{corpus}-{head}")


def run_one(corpus: str, cell: str, head: str, minutes: float, threads: int, folder: Path,
            per_set: bool = False) -> dict:
    """One cell trained with the poly-lstm / poly-nade preset (the same recipe for every cell), or with
    the set's own recipe (`per_set`, the one-row-per-set table)."""
    preset, model = recipe_for(corpus, head, per_set)
    config = build_config(preset, {
        "data": {"corpus": corpus}, "model": {**model, "cell": cell},
        "train": {"max_minutes": minutes, "threads": threads, "checkpoint_every": 0}})
    started, cpu = time.perf_counter(), time.process_time()
    records = train(config, folder, log=lambda line: None)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    trained = open_run(folder, "best", "cpu")
    valid = evaluate_pianoroll_run(trained, "valid")
    test = evaluate_pianoroll_run(trained, "test")
    params = sum(p.numel() for p in trained.model.parameters())
    return {"corpus": corpus, "cell": cell, "head": head, "params": params, "epochs": len(records),
            "partial": bool(records and records[-1].get("partial")), "minutes": seconds / 60, "cpu_minutes": cpu / 60,
            "budget": minutes, "valid": valid["nll"], "test": test["nll"], "frames": test["frames"]}


def epochs_text(row: dict) -> str:
    """Epochs validated; the last one is cut short by the budget unless training stopped early."""
    return str(row["epochs"]) if row["partial"] else f"{row['epochs']} (early stop)"


def print_cells(corpus: str, rows: list[dict], minutes: list[str]) -> None:
    published = PUBLISHED.get(corpus, {})
    print(f"\n{corpus}: test frame NLL (nats per frame, sum over 88 keys; {rows[0]['frames']:,} scored frames), "
          f"poly-lstm / poly-nade recipe, --minutes {' '.join(minutes)} each on {torch.get_num_threads()} "
          f"CPU thread(s)\n")
    print("| model | parameters | epochs | minutes | valid | test | published |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        name = row["cell"].upper() + (" + NADE head" if row["head"] == "nade" else "")
        figure, source = published.get(row["cell"], ("—", "")) if row["head"] == "bernoulli" else ("—", "")
        print(f"| {name} | {row['params']:,} | {epochs_text(row)} | {row['minutes']:.1f} | {row['valid']:.3f} | "
              f"{row['test']:.3f} | {figure} {source} |")
    for label, figure in REFERENCES.get(corpus, []):
        print(f"| {label} | | | | | | {figure} |")


def print_corpora(rows: list[dict], heads: list[str], threads: int) -> None:
    """One row per set: for each head the test NLL, its minutes and epochs, the command, the published figure."""
    print(f"\nTest frame NLL (nats per frame, sum over 88 keys), LSTM, {threads} CPU thread(s); minutes = "
          "wall-clock training incl. validation (CPU minutes in brackets)\n")
    header, rule = ["set"], ["---"]
    for head in heads:
        header += [HEAD_TITLES[head], "minutes / epochs", "command", PUBLISHED_LABEL[head]]
        rule += ["---:", "---:", "---", "---:"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(rule) + "|")
    for corpus in dict.fromkeys(r["corpus"] for r in rows):
        cells = [TITLES[corpus]]
        for head in heads:
            row = next((r for r in rows if r["corpus"] == corpus and r["head"] == head), None)
            figure = PUBLISHED_BY_HEAD[head].get(corpus) or "not published"
            if row is None:
                cells += ["—", "", "", figure]
                continue
            cells += [f"{row['test']:.3f}", f"{row['minutes']:.1f} ({row['cpu_minutes']:.1f}) / {epochs_text(row)}",
                      f"`{command(corpus, head, row['budget'], threads)}`", figure]
        print("| " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="jsb", choices=CORPORA)
    parser.add_argument("--corpora", nargs="+", choices=CORPORA,
                        help="one row per set: an LSTM with each of --heads on each set")
    parser.add_argument("--heads", default="bernoulli,nade", help="with --corpora: bernoulli, nade or both")
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--minutes", nargs="+", default=["4"], metavar="N|KEY=N",
                        help="training budget per model: N, and KEY=N for a set, a head or SET/HEAD")
    parser.add_argument("--nade", action="store_true", help="also an LSTM with the NADE frame head")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="keep the run directories here (default: a temporary folder)")
    args = parser.parse_args()
    check_specs(args.minutes, parser)
    heads = [h for h in args.heads.split(",") if h]
    if any(h not in HEADS for h in heads) or not heads:
        parser.error(f"--heads {args.heads}: choose from {', '.join(HEADS)}")

    if args.corpora:
        jobs = [(corpus, "lstm", head) for corpus in args.corpora for head in heads]
    else:
        jobs = ([(args.corpus, cell, "bernoulli") for cell in args.cells.split(",")]
                + ([(args.corpus, "lstm", "nade")] if args.nade else []))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.out or scratch)
        for corpus, cell, head in jobs:
            folder = root / (f"{corpus}-{head}" if args.corpora else f"{cell}-{head}")
            rows.append(run_one(corpus, cell, head, budget(args.minutes, corpus, head), args.threads, folder,
                                per_set=bool(args.corpora)))
            print(f"  {corpus} {cell}/{head}: test {rows[-1]['test']:.3f} after {rows[-1]['minutes']:.1f} min",
                  flush=True)
    if args.corpora:
        print_corpora(rows, heads, args.threads)
    else:
        print_cells(args.corpus, rows, args.minutes)


if __name__ == "__main__":
    main()

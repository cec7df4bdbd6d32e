"""The NumPy engine's commands: `rnnlab gradients`, `rnnlab inspect`, `rnnlab toy`.

cli.py lists them in its command table; each
function takes the parsed arguments, calls the scratch modules, and prints.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

from threadpoolctl import threadpool_limits

from rnnlab.errors import RnnlabError
from rnnlab.scratch.cells import CELLS


def one_blas_thread(command):
    """These commands multiply small matrices, which gain nothing from BLAS threads, and on a busy
    machine a product split over threads waits for a descheduled one: run them on one."""
    @functools.wraps(command)
    def run(args) -> int:
        with threadpool_limits(1):
            return command(args)
    return run


def finite_or_none(values) -> list:
    """JSON has no Infinity or NaN: an exploded norm is written as null."""
    return [float(v) if math.isfinite(v) else None for v in values]


@one_blas_thread
def cmd_gradients(args) -> int:
    from rnnlab.scratch.gradients import GradientSetting, plot, run, table

    problems = [f"--{name} must be at least {low}" for name, value, low in
                (("length", args.length, 2), ("hidden", args.hidden, 1), ("batch", args.batch, 1))
                if value < low]
    if not args.clip >= 0 or args.clip == float("inf"):          # NaN fails the first test
        problems.append("--clip must be 0 (off) or positive")
    if problems:
        raise RnnlabError("; ".join(problems))
    setting = GradientSetting(length=args.length, hidden=args.hidden, batch=args.batch, seed=args.seed)
    results = run(args.cell or list(CELLS), setting, args.clip)
    if args.out:
        plot(results, setting, args.clip, Path(args.out))
    if args.json:
        for kind, runs in results.items():
            line = {"cell": kind, "clip": args.clip, "norms": finite_or_none(runs["clipped" if args.clip else "norms"])}
            if args.clip:
                line["unclipped"] = finite_or_none(runs["norms"])
            print(json.dumps(line))
        return 0
    print(f"|d loss / d state_t| on the adding problem ({setting.length} steps, hidden {setting.hidden}, "
          f"{setting.batch} sequences; geometric mean), by distance from the loss:")
    print(table(results))
    if args.out:
        print(f"plot: {args.out}")
    return 0


@one_blas_thread
def cmd_inspect(args) -> int:
    import sys

    from rnnlab.scratch.gate_pictures import save_gate_picture
    from rnnlab.scratch.inspection import inspect_run, top_units

    if args.top < 1 or args.units < 1:
        raise RnnlabError("--top and --units must be at least 1")
    seen = inspect_run(args.run, args.text, args.midi, args.checkpoint)
    for line in seen.notes:
        print(f"note: {line}", file=sys.stderr)
    if seen.unknown:
        distinct = list(dict.fromkeys(seen.unknown))
        more = f" (and {len(distinct) - 12} more)" if len(distinct) > 12 else ""
        print(f"note: {len(seen.unknown)} token(s) not in the vocabulary, read as <unk>: "
              f"{' '.join(distinct[:12])}{more}", file=sys.stderr)
    found = top_units(seen, args.top)
    featured: dict[int, list[int]] = {}
    for row in found:
        featured.setdefault(row["layer"], []).append(row["unit"])
    save_gate_picture(seen.layers, seen.tokens, Path(args.out),
                      f"{args.run}: {seen.cell}, {len(seen.tokens)} {seen.steps}", args.units, featured)
    names = ", ".join(seen.layers[0])
    print(f"{len(seen.tokens)} {seen.steps} through {len(seen.layers)} {seen.cell} layer(s) ({names}); picture: "
          f"{args.out} (the units listed below drawn first)")
    if not found:
        print(f"no feature ({', '.join(seen.features)}) varies over this input: give a longer one")
    width = max(map(len, seen.features))
    for row in found:
        print(f"  {row['feature']:{width}} layer {row['layer']} {row['activation']:9} unit {row['unit']:4d}  "
              f"r = {row['r']:+.2f}")
    return 0


@one_blas_thread
def cmd_toy(args) -> int:
    from rnnlab.scratch import toys

    if args.epochs is not None and args.epochs < 1:
        raise RnnlabError("--epochs must be at least 1")
    log = (lambda line: None) if args.quiet else print
    if args.task == "next-word":
        result = toys.next_word(args.seed if args.seed is not None else 0, args.cell or "rnn", args.epochs or 10, log)
        d = result.detail
        print(f"next-word ({args.cell or 'rnn'}, 4-word window over 100 words): accuracy {result.accuracy:.1%} "
              f"on {d['test_words']:,} test words (a perfect predictor expects {d['ceiling']:.1%}: most words are "
              f"drawn at random); on the place word, decided by the subject 9 words back "
              f"(outside the window, so only the memory knows it): {d['place_accuracy']:.1%} "
              f"(chance {d['place_chance']:.0%})")
    else:
        result = toys.addition(args.seed if args.seed is not None else 1, args.cell or "rnn",
                               300 * (args.epochs or 10), log=log)
        print(f"addition ({args.cell or 'rnn'}, 8-bit, hidden 16): exact sums {result.accuracy:.1%} of 1,000 "
              f"new pairs, bits {result.detail['bit_accuracy']:.1%}; e.g. {result.detail['example']}")
    return 0


def add_gradients_arguments(p) -> None:
    p.description = ("The norm of d loss / d h_t against distance from the loss on the adding problem (NumPy "
                     "engine): the tanh RNN's vanishes, the ReLU RNN's explodes, the LSTM's carries.")
    p.add_argument("--cell", choices=CELLS, action="append", help="a cell to measure (repeatable; default: all)")
    p.add_argument("--clip", type=float, default=0.0,
                   help="also run with the gradient flowing back cut to this norm at every step")
    p.add_argument("--length", type=int, default=100, help="sequence length: the longest lag measured")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--batch", type=int, default=64, help="sequences averaged over")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help='one line per cell: {"cell": ..., "norms": [...]}')
    p.add_argument("--out", help="write the plot (PNG) here")


def add_inspect_arguments(p) -> None:
    p.description = ("Read a text (text runs) or a MIDI file (music runs) with a trained run "
                     "(either engine) in the NumPy engine; draw each layer's gates (input, forget, "
                     "output / update, reset), cell and hidden state per step, and list the units "
                     "most correlated with simple features: the position in the line and being "
                     "inside quotes (text); the pitch played and note onsets (MIDI events); the "
                     "highest pitch and the number of notes sounding (piano-roll frames).")
    p.add_argument("run")
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument("--text", help="the text to read (a few lines work best); for a MIDI-event run, event "
                                      "tokens separated by spaces")
    given.add_argument("--midi", metavar="FILE", help="a MIDI file for a music run to read (its opening, "
                                                      "as many steps as the picture holds)")
    p.add_argument("--out", default="gates.png", help="the PNG to write")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    p.add_argument("--top", type=int, default=3, help="units listed per feature")
    p.add_argument("--units", type=int, default=48, help="units drawn per layer")


def add_toy_arguments(p) -> None:
    p.description = ("next-word: a 4-word window over a 100-word vocabulary with a 100-dim memory, "
                     "where only the memory knows a word 9 back. addition: binary addition "
                     "learnt by a simple RNN, bit by bit.")
    p.add_argument("task", choices=["next-word", "addition"])
    p.add_argument("--cell", choices=CELLS, help="default: rnn (tanh), as in the notes")
    p.add_argument("--epochs", type=int, help="next-word: passes over the text (10); addition: x300 steps (10)")
    p.add_argument("--seed", type=int, help="default: 0 for next-word, 1 for addition")
    p.add_argument("--quiet", action="store_true", help="print the accuracy line only")




"""The NumPy engine's commands: `rnnlab gradients`, `rnnlab inspect`, `rnnlab toy`.

cli.py adds these parsers with `add_commands(sub)` and their functions from `COMMANDS`; each
function takes the parsed arguments, calls the scratch modules, and prints.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.scratch.cells import CELLS


def finite_or_none(values) -> list:
    """JSON has no Infinity or NaN: an exploded norm is written as null."""
    return [float(v) if math.isfinite(v) else None for v in values]


def cmd_gradients(args) -> int:
    from rnnlab.scratch.gradients import GradientSetting, plot, run, table

    problems = [f"--{name} must be at least {low}" for name, value, low in
                (("length", args.length, 2), ("hidden", args.hidden, 1), ("batch", args.batch, 1))
                if value < low]
    if args.clip < 0:
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


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gradients", help="vanishing / exploding gradients of each cell on a long-lag task",
                       description="The norm of d loss / d h_t against distance from the loss on the adding "
                                   "problem (NumPy engine): the tanh RNN's vanishes, the ReLU RNN's explodes, "
                                   "the LSTM's carries.")
    p.add_argument("--cell", choices=CELLS, action="append", help="a cell to measure (repeatable; default: all)")
    p.add_argument("--clip", type=float, default=0.0,
                   help="also run with the gradient flowing back cut to this norm at every step")
    p.add_argument("--length", type=int, default=100, help="sequence length: the longest lag measured")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--batch", type=int, default=64, help="sequences averaged over")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help='one line per cell: {"cell": ..., "norms": [...]}')
    p.add_argument("--out", help="write the plot (PNG) here")


COMMANDS = {"gradients": cmd_gradients}

"""Cold start: how long a fresh process takes to import rnnlab, to import its command line, to read
a run's config.json, and to print 200 characters from a shipped model.

    python benchmarks/cold_start.py [--repeat 7] [--tree OTHER/src ...]

Each figure is the median wall time of fresh processes. With --tree, each source tree (this one
first) is measured in turn, A B A B ..., so that other work on the machine falls on all alike,
and each tree's figures are printed with their ratio to the first's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

STEPS = {
    "import rnnlab": "import rnnlab",
    "import rnnlab.cli": "import rnnlab.cli",
    "read config.json": "from rnnlab.runs import RunDir; RunDir({run!r}).load_config()",
    "generate @shakespeare, 200 chars": "from rnnlab.cli import main; main(['generate', '@shakespeare', '--length', "
                                        "'200', '--seed', '1', '--device', 'cpu'])",
}


def a_run_folder() -> str:
    """A folder holding a copy of @shakespeare's config.json (the step that reads it needs no weights)."""
    from rnnlab import gallery

    folder = Path(tempfile.mkdtemp(prefix="cold-start-"))
    config = json.loads((gallery.resolve("@shakespeare") / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return str(folder)


def wall(code: str, tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--tree", action="append", default=[], help="another source tree's src/ to compare")
    args = parser.parse_args()
    trees = [HERE] + [Path(t).resolve() for t in args.tree]
    run = a_run_folder()
    times = {(tree, step): [] for tree in trees for step in STEPS}
    for _ in range(args.repeat):
        for step, code in STEPS.items():
            for tree in trees:
                times[tree, step].append(wall(code.format(run=run), tree))
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.repeat} fresh processes, seconds")
    for step in STEPS:
        first = statistics.median(times[trees[0], step])
        line = f"{step:36s} {first:6.2f}"
        for tree in trees[1:]:
            other = statistics.median(times[tree, step])
            line += f"   {tree.parent.name}: {other:6.2f} ({other / first:.2f}x this tree's)"
        print(line)


if __name__ == "__main__":
    main()

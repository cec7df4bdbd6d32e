"""A command of the `rnnlab` command line, declared where its work lives.

The command line's own commands and each task's (`translate`, `respond`, `similar`, ...) are
`Command`s; a task lists its own in `Task.commands`, so adding a task never edits `cli.py`. The
functions may be named as "module:function" and are imported only when their command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Callable


@dataclass
class Command:
    add_arguments: Callable | str          # (parser) -> None, or "module:function"
    run: Callable | str                    # (args) -> exit status, or "module:function"
    help: str
    intermixed: bool = False               # options may come between and after the positionals (translate)

    def adder(self) -> Callable:
        return resolve(self.add_arguments)

    def runner(self) -> Callable:
        return resolve(self.run)


def add_device_flags(parser, device: str = "auto") -> None:
    """--device and --threads, as every command that runs a model takes them."""
    parser.add_argument("--device", default=device, help=f"auto (a GPU when there is one), cpu, cuda or cuda:N "
                        f"(default: {device})")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: rnnlab times the work and keeps "
                        "the faster of one thread and every core)")


def resolve(ref: Callable | str) -> Callable:
    """A function, or the one "package.module:function" names."""
    if callable(ref):
        return ref
    module, name = ref.split(":")
    return getattr(import_module(module), name)

"""The `rnnlab` command line: one table from command name to its arguments and function.

`train` reads which task a run is (`--task`, `--modality`, the preset or the named corpus)
before it builds its parser, so `rnnlab train jsb --help` lists the piano-roll options only and
a flag of another task is refused in one line. `evaluate` and `generate` do the same with the
task of the run they are given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from contextlib import contextmanager

from rnnlab import api
from rnnlab.commands import Command, add_device_flags
from rnnlab.config import RESUMABLE, all_sections
from rnnlab.data import corpora
from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import add_sampling_flags
from rnnlab.presets import PRESETS
from rnnlab.runs import RunDir
from rnnlab.scratch import commands as scratch
from rnnlab.tasks import registry



# ---- train -------------------------------------------------------------------------------------
def config_flag(group, section: str, f: dataclasses.Field) -> None:
    """One flag for a config field; default None so that only explicit flags override."""
    flag = "--" + f.name.replace("_", "-")
    choices = f.metadata.get("choices")
    among = f"one of {', '.join(choices)}; " if choices else ""
    help_text = f"{f.metadata.get('help', '')} ({among}default: {f.default})"
    dest = f"{section}.{f.name}"
    if f.type in ("bool", bool):
        group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help_text)
    else:
        kind = {"int": int, "float": float}.get(str(f.type), str)
        group.add_argument(flag, dest=dest, type=kind, default=None, help=help_text, choices=choices,
                           metavar=f.name.upper())


def add_train_basics(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", nargs="?", help="text file, folder, or named corpus (rnnlab data list)")
    p.add_argument("--out", help="run directory to create (or resume)")
    p.add_argument("--task", choices=[name for name, task in registry.TASKS.items() if task.options], help="what to learn (default: from the corpus or preset; lm)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="a named recipe; flags override it")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--config", dest="config_file", metavar="FILE",
                   help="settings from a JSON or YAML file laid out as a run's config.json (flags override it)")
    p.add_argument("--print-config", action="store_true", help="print the config this would train with, and stop")
    p.add_argument("--modality", dest="data.modality", default=None,
                   choices=tuple(dict.fromkeys(task.modality for task in registry.TASKS.values())),
                   help="kind of data (another way to choose the task)")
    ways = {task.name: task.tokenizers for task in registry.TASKS.values() if task.tokenizers}
    p.add_argument("--tokenizer", dest="data.tokenizer", default=None,
                   choices=("auto", *(name for names in ways.values() for name in names)),
                   help="how MIDI becomes steps, which also chooses the task: "
                        + "; ".join(f"{', '.join(names)} ({task})" for task, names in ways.items()))


def train_parser(task) -> argparse.ArgumentParser:
    """`rnnlab train` with the options of `task` only."""
    others = "; ".join(f"{t.name}: {t.description}" for t in registry.TASKS.values() if t.options)
    p = argparse.ArgumentParser(prog="rnnlab train", allow_abbrev=False,
                                description=f"Train a {task.name} model ({task.description}) into a run directory. "
                                            "The options below are this task's.",
                                epilog=f"Tasks (--task X --help lists each one's options): {others}.")
    add_train_basics(p)
    sections = all_sections()
    for section, names in task.options.items():
        group = p.add_argument_group(f"{section} options")
        for f in dataclasses.fields(sections[section]):
            if f.name in names and f.name not in ("modality", "tokenizer"):     # those two are basics
                config_flag(group, section, f)
    return p


def choose_task(basics: argparse.Namespace):
    """The task `train` was asked for: the run's own when resuming, else as `rnnlab.train` chooses it."""
    if basics.resume and basics.out and RunDir(basics.out).holds_run():
        return registry.task_of_run(basics.out)
    data = {"modality": getattr(basics, "data.modality"), "tokenizer": getattr(basics, "data.tokenizer")}
    return registry.choose_task(basics.corpus or "", basics.task, basics.preset, data)


def parse_train(argv: list[str]) -> tuple[argparse.Namespace, object]:
    first = argparse.ArgumentParser(prog="rnnlab train", add_help=False, allow_abbrev=False)
    add_train_basics(first)
    basics, _ = first.parse_known_args(argv)
    task = choose_task(basics)
    parser = train_parser(task)
    args, rest = parser.parse_known_args(argv)
    if rest:
        names = [token.split("=")[0][2:].replace("-", "_") for token in rest if token.startswith("--")]
        foreign = [name for name in names if registry.tasks_taking(name)]
        if foreign:
            raise registry.train_option_refused(task, foreign[0])
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if not args.out and not args.print_config:
        parser.error("the following arguments are required: --out")
    return args, task


def config_overrides(args: argparse.Namespace) -> dict:
    overrides: dict[str, dict] = {name: {} for name in all_sections()}
    for key, value in vars(args).items():
        if "." in key and value is not None:
            section, name = key.split(".", 1)
            overrides[section][name] = value
    return overrides


def cmd_train(args, task) -> int:
    overrides = config_overrides(args)
    settings = {name: value for values in overrides.values() for name, value in values.items()}
    if args.resume:
        note_ignored_on_resume(args, overrides)
        api.train(out=args.out, resume=True, **settings)
        return 0
    if not args.corpus:
        raise RnnlabError("train needs a CORPUS (a text file, a folder, or a name from `rnnlab data list`)")
    chosen = task.name if args.task else None
    if args.print_config:
        config = api.configure(args.corpus, preset=args.preset, task=chosen, config=args.config_file, **settings)
        print(json.dumps(config.to_dict(), indent=2, ensure_ascii=False))
        return 0
    api.train(args.corpus, args.out, preset=args.preset, task=chosen, config=args.config_file, **settings)
    return 0


def note_ignored_on_resume(args, overrides: dict) -> None:
    """--resume keeps the run's settings: say which of the given flags it will not apply."""
    ignored = [f"--{k.replace('_', '-')}" for section in overrides.values() for k in section if k not in RESUMABLE] \
        + (["CORPUS"] if args.corpus else []) + (["--preset"] if args.preset else [])
    if ignored:
        print(f"note: --resume continues with the run's saved settings; ignored: {', '.join(ignored)} "
              f"(it takes {', '.join('--' + k.replace('_', '-') for k in RESUMABLE)})", file=sys.stderr)


# ---- evaluate and generate: flags that belong to some tasks only ----------------------------------
# Flags every run takes; every other flag is taken only by the tasks that list it in their
# `evaluate_options` / `generate_options`, and refused in one line for the others.
COMMON = {"run", "split", "checkpoint", "device", "threads", "json", "temperature", "greedy", "seed", "help"}


class TaskFlags:
    """A parser that takes only the flags of `allowed` (by dest), and every positional: `evaluate` and
    `generate` offer a run's task's flags only, as `train` does."""

    def __init__(self, parser: argparse.ArgumentParser, allowed: set[str]):
        self.parser, self.allowed = parser, allowed

    def add_argument(self, *names, **options):
        dest = options.get("dest") or names[0].lstrip("-").replace("-", "_")
        if not names[0].startswith("-") or dest in self.allowed:
            return self.parser.add_argument(*names, **options)
        return None

    def __getattr__(self, name):
        return getattr(self.parser, name)


class RunOptional(TaskFlags):
    """Every flag, and the RUN positional made optional: a first look at the command line for its run."""

    def add_argument(self, *names, **options):
        if names == ("run",):
            return self.parser.add_argument("run", nargs="?")
        return self.parser.add_argument(*names, **options)


def first_pass(argv: list[str], add_arguments) -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    """The run a command line names (None when it names none), knowing every flag that takes a value."""
    everything = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_arguments(RunOptional(everything, set()))
    return everything.parse_known_args(argv)[0], everything


def wants_help(argv: list[str]) -> bool:
    return any(token in ("-h", "--help") for token in argv)


def run_task(first: argparse.Namespace, argv: list[str]):
    """The task of the run the command line names; None when it names none (or not a run, for --help)."""
    try:
        return registry.task_of_run(first.run) if first.run else None
    except RnnlabError:
        if not wants_help(argv):
            raise
        return None


def parse_for_task(kind: str, argv: list[str], add_arguments, seen=None):
    """`rnnlab evaluate|generate RUN ...` parsed with the flags of RUN's task and those every run takes;
    a flag of another task is refused in one line naming the tasks it is for. `seen`: (first look's
    parser, task) when the caller has already found them."""
    if seen is None:
        first, everything = first_pass(argv, add_arguments)
        seen = everything, run_task(first, argv)
    everything, task = seen
    parser = argparse.ArgumentParser(prog=f"rnnlab {kind}", allow_abbrev=False,
                                     description=f"{kind} a {task.name} run" if task else None)
    if task is None:
        add_arguments(parser)
        return parser.parse_args(argv), None
    takes = set(getattr(task, f"{kind}_options"))
    add_arguments(TaskFlags(parser, COMMON | takes))
    args, rest = parser.parse_known_args(argv)
    for action in everything._actions:
        for flag in action.option_strings:
            if any(token == flag or token.startswith(flag + "=") for token in rest):
                owners = registry.tasks_taking(action.dest, kind) or ["other"]
                raise RnnlabError(f"{flag} does not apply to a {task.name} run (it is for {', '.join(owners)} runs)")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args, task


def add_evaluate_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--data", help="evaluate on this file instead of a split")
    p.add_argument("--batch-size", type=int, default=1, help="parallel streams (1: the exact protocol)")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    add_device_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy"],
                   help="numpy: read the weights into the from-scratch NumPy engine")
    from rnnlab.tasks.seq2seq.commands import add_decoding_flags
    add_decoding_flags(p)
    p.add_argument("--analogies", help="score this analogy file (questions-words.txt format)")
    p.add_argument("--restrict-vocab", type=int, default=30000,
                   help="analogies: only the most frequent N words take part (compute-accuracy's threshold)")
    p.add_argument("--case-sensitive", action="store_true", help="analogies: do not upper-case words")


def cmd_evaluate(argv: list[str]) -> int:
    args, task = parse_for_task("evaluate", argv, add_evaluate_arguments)
    if vars(args).get("batch_size", 1) < 1:                 # for the tasks that take --batch-size
        raise RnnlabError("--batch-size must be at least 1 (1: the exact protocol)")
    return task.evaluate(args)


def add_generate_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("--prime", default="", help="text to start from; MIDI runs: a MIDI file, seed events of the "
                   "run's vocabulary, or for piano rolls a chord such as 60,64,67")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    add_device_flags(p)
    add_sampling_flags(p)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"],
                   help="weights for sampling: int8 (CPU) is several times faster for large models, bf16 halves the "
                        "memory; either is measured against fp32 on the prime first")
    p.add_argument("--out", help="series: CSV file to write (a PNG is drawn beside it); MIDI: song.mid (song.ogg "
                   "and song.png beside it)")
    p.add_argument("--audio", default="ogg", choices=["ogg", "mp3", "flac", "wav", "none"],
                   help="MIDI: the audio written beside song.mid through FluidSynth, loudness-normalised and tagged "
                   "(default ogg; none: no audio)")
    p.add_argument("--seconds", type=float, default=None, help="seconds of new music after the primer (default 30)")
    p.add_argument("--bars", type=float, default=None, help="bars of new music (4/4 unless the primer says)")
    p.add_argument("--prime-file", help="series: CSV/NPY to continue (default: the run's data; strokes: a new "
                   "drawing)")
    p.add_argument("--context", type=int, default=0, help="series: use only the prime's last N steps")


def cmd_generate(argv: list[str]) -> int:
    first, everything = first_pass(argv, add_generate_arguments)
    task = run_task(first, argv)
    if task is not None and not task.generate_options and not wants_help(argv):   # verbs of its own (translate)
        return task.generate(first)
    args, task = parse_for_task("generate", argv, add_generate_arguments, (everything, task))
    return task.generate(args)


# ---- the rest ----------------------------------------------------------------------------------
def add_serve_arguments(p) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories; only these can be loaded")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8765, help="HTTP and WebSocket port")
    p.add_argument("--osc-port", type=int, default=57120, help="OSC (UDP) port (0: no OSC)")
    add_device_flags(p, "cpu")
    p.add_argument("--max-sessions", type=int, default=64, help="recurrent states held at once")
    p.add_argument("--max-osc-sessions", type=int, default=None, help="OSC senders remembered at once, the least "
                   "recently used forgotten (default: --max-sessions)")
    p.add_argument("--max-named-sessions", type=int, default=None, help="sessions clients named, the least recently "
                   "used forgotten (default: --max-sessions)")
    p.add_argument("--max-snapshots", type=int, default=16, help="snapshots kept per session, the oldest dropped")
    p.add_argument("--max-length", type=int, default=2000, help="longest generation or stream, in steps")
    p.add_argument("--max-request-bytes", type=int, default=65536, help="largest HTTP body / WebSocket message")
    p.add_argument("--max-batch", type=int, default=64, help="clients' one-step requests run as one batch (1: off)")
    p.add_argument("--quantize", action="store_true", help="int8 weights (CPU): much faster steps, tiny change in output")
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="let web pages from ORIGIN (e.g. https://editor.p5js.org; * for any) call the server "
                        "from a browser; repeatable (default: only pages on localhost / 127.0.0.1)")
    p.add_argument("--token", metavar="TOKEN", help="require TOKEN of every HTTP and WebSocket client (header "
                   "`Authorization: Bearer TOKEN` or ?token=TOKEN); auto: a new one, printed in the page's URL "
                   "(default: auto when --host is not loopback)")
    p.add_argument("--no-token", action="store_true", help="require no token even off loopback (a trusted network)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="answer requests for this host name too, e.g. stage.local (without a token, only localhost, "
                        "addresses and --host are answered: DNS-rebinding pages are not); repeatable; * for any")
    p.add_argument("--osc-allow", action="append", default=[], metavar="ADDR_OR_CIDR",
                   help="take OSC from this address or network too, e.g. 192.168.1.0/24 (default: loopback only; "
                        "other senders are dropped); repeatable")
    p.add_argument("--idle-seconds", type=float, default=30.0, help="a full session pool makes room by ending "
                   "the session idle longest, if idle for more than this (in-use sessions are never ended)")
    p.add_argument("--max-connections", type=int, default=4096,
                   help="open HTTP and WebSocket connections (kept below the open-files limit)")
    p.add_argument("--request-timeout", type=float, default=10.0,
                   help="seconds a client has to send a request's head, and then its body")


def cmd_serve(args) -> int:
    from rnnlab.serve.app import cmd_serve as serve     # FastAPI and uvicorn load only for `serve`
    return serve(args)


def add_data_arguments(p) -> None:
    p.add_argument("action", choices=["list", "get"])
    p.add_argument("name", nargs="?")


def cmd_data(args) -> int:
    if args.action == "list":
        for name, corpus in corpora.CORPORA.items():
            print(f"{name:20} {corpus.task:12} {corpora.status(name):40} {corpus.description}")
        for name, description in corpora.EMBEDDED.items():
            print(f"{name:20} {'lm':12} {'embedded':40} {description}")
        return 0
    if not args.name:
        raise RnnlabError("data get needs a corpus NAME; `rnnlab data list` shows them")
    root = corpora.download(args.name, progress=lambda line: print(line, file=sys.stderr))
    print(f"{args.name}: ready in {root}")
    return 0


def add_models_arguments(p) -> None:
    p.add_argument("action", nargs="?", default="list", choices=["list", "rebuild"])
    p.add_argument("name", nargs="?", help="rebuild: the shipped model to train again from its card's command")
    p.add_argument("--out", help="rebuild: a new folder for the run (OUT/run) and the packed model (OUT/NAME)")


def cmd_models(args) -> int:
    if args.action == "rebuild":
        from rnnlab import shipping
        if not args.name or not args.out:
            raise RnnlabError("models rebuild needs a NAME and --out FOLDER (`rnnlab models` lists the names)")
        shipping.rebuild(args.name.removeprefix("@"), args.out, log=lambda line: print(line, file=sys.stderr))
        return 0
    for name, card in api.models().items():
        score = f"test {card['headline']['metric']} {card['headline']['value']:.4g}"
        print(f"@{name:12} {card['task']:12} {card['verb']:10} {score:26} {card['summary']}")
    return 0


COMMANDS: dict[str, Command] = {
    "train": Command(add_train_basics, cmd_train, "train a model into a run directory (any task)"),
    "evaluate": Command(add_evaluate_arguments, cmd_evaluate, "score a trained run on a split or a file"),
    "generate": Command(add_generate_arguments, cmd_generate, "sample text, music or a series from a run"),
    "serve": Command(add_serve_arguments, cmd_serve, "serve runs over HTTP, WebSocket and OSC (127.0.0.1)"),
    "data": Command(add_data_arguments, cmd_data, "list or download the named corpora"),
    "gradients": Command(scratch.add_gradients_arguments, scratch.cmd_gradients,
                         "vanishing / exploding gradients of each cell on a long-lag task"),
    "inspect": Command(scratch.add_inspect_arguments, scratch.cmd_inspect,
                       "picture of a model's gates and states over a text or a MIDI file"),
    "toy": Command(scratch.add_toy_arguments, scratch.cmd_toy, "toy tasks trained with the NumPy engine"),
    "models": Command(add_models_arguments, cmd_models,
                      "list the shipped models (@name wherever a run is taken), or rebuild one from its card"),
}




def all_commands() -> dict[str, Command]:
    """The command line's own commands, then every task's."""
    declared = {name: command for task in registry.TASKS.values() for name, command in task.commands.items()}
    return {**COMMANDS, **declared}


def build_parser(only: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The `rnnlab` parser and each command's; with `only`, just that command's arguments are added
    (the others' modules are not imported)."""
    parser = argparse.ArgumentParser(prog="rnnlab", allow_abbrev=False,
                                     description="Recurrent sequence models to learn, use and play with.",
                                     epilog="Before the command: -q / --quiet (warnings only), -v / --verbose "
                                            "(more detail); rnnlab --version prints the version.")
    sub = parser.add_subparsers(dest="command", required=True)
    parsers = {}
    for name, command in all_commands().items():
        parsers[name] = sub.add_parser(name, help=command.help, allow_abbrev=False, add_help=name != "train")
        if only is None or name == only:
            command.adder()(parsers[name])
    return parser, parsers


def dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "train":
        args, task = parse_train(argv[1:])
        return cmd_train(args, task)
    if argv and argv[0] in ("evaluate", "generate"):        # parsed with the run's task's flags
        return COMMANDS[argv[0]].runner()(argv[1:])
    commands = all_commands()
    command = commands.get(argv[0]) if argv else None
    parser, parsers = build_parser(argv[0] if command is not None else None)
    if command is not None and command.intermixed:         # `translate RUN "text" --beam 5`
        return command.runner()(parsers[argv[0]].parse_intermixed_args(argv[1:]))
    args = parser.parse_args(argv)
    return commands[args.command].runner()(args)


GLOBAL_FLAGS = {"-q": logging.WARNING, "--quiet": logging.WARNING, "-v": logging.DEBUG, "--verbose": logging.DEBUG}


class Console(logging.Handler):
    """rnnlab's log lines as the command line prints them: progress on standard output, notes and
    warnings on standard error (looked up at each line, so a redirected stream is followed)."""

    def emit(self, record: logging.LogRecord) -> None:
        stream = sys.stderr if record.levelno >= logging.WARNING else sys.stdout
        stream.write(self.format(record) + "\n")
        stream.flush()


@contextmanager
def console_logging(level: int):
    """rnnlab's log lines on the console for one command; as they were afterwards (a program that
    calls `main` and then the API stays quiet)."""
    logger = logging.getLogger("rnnlab")
    handler, before = Console(), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]


def global_options(argv: list[str]) -> tuple[list[str], int]:
    """-q / -v before the command (`rnnlab -q train ...`), and the log level they ask for."""
    level = logging.INFO
    while argv and argv[0] in GLOBAL_FLAGS:
        level = GLOBAL_FLAGS[argv[0]]
        argv = argv[1:]
    return argv, level


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--version"]:
        from rnnlab import __version__
        print(f"rnnlab {__version__}")
        return 0
    argv, level = global_options(argv)
    with console_logging(level):
        return run_command(argv)


def run_command(argv: list[str]) -> int:
    try:
        return dispatch(argv)
    except RnnlabError as err:
        print(f"rnnlab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = "; `rnnlab train --resume --out RUN` continues it" if argv[:1] == ["train"] else ""
        print(f"\nrnnlab: interrupted{hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:                      # `rnnlab generate ... | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:                       # a bug or a case we did not foresee: one line, not a traceback
        from rnnlab.files import disk_full
        if os.environ.get("RNNLAB_DEBUG") and not isinstance(err, MemoryError):
            raise
        first = (str(err).strip().splitlines() or [""])[0][:300]
        full = next((e for e in (err, err.__cause__, err.__context__) if isinstance(e, OSError) and disk_full(e)), None)
        if full is not None:                    # wherever it happened: say so, not "unexpected"
            print(f"rnnlab: error: {full.filename or 'writing'}: {disk_full(full)}; free some space and run the "
                  "command again", file=sys.stderr)
            return 2
        if isinstance(err, MemoryError) or "can't allocate memory" in first or "not enough memory" in first.lower():
            print("rnnlab: error: out of memory; use a smaller model (--hidden, --layers) or --batch-size",
                  file=sys.stderr)
            return 2
        print(f"rnnlab: error: {type(err).__name__}: {first} (unexpected: please report it; "
              "RNNLAB_DEBUG=1 shows where it happened)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The `rnnlab` command line: a table from command name to function, no logic of its own.

Each command function takes parsed arguments and calls the modules; training flags are made
from the config dataclasses' fields, so their help is the fields' help.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Callable

from rnnlab.config import PRESETS, DataConfig, ModelConfig, TrainConfig
from rnnlab.errors import RnnlabError
from rnnlab.tasks.seq2seq import commands as cli_seq2seq
from rnnlab.tasks.music import commands as cli_music
from rnnlab.scratch import commands as scratch_commands

SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
SECTIONS["seq2seq"] = cli_seq2seq.Seq2SeqConfig       # encoder-decoder flags (--task seq2seq)
SECTIONS["dialogue"] = cli_seq2seq.DialogueConfig     # --task dialogue --model seq2seq|hred|vhred


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, default None so that only explicit flags override."""
    for section, kind in SECTIONS.items():
        group = parser.add_argument_group(f"{section} options")
        for f in dataclasses.fields(kind):
            if f.name == "corpus":
                continue
            flag = "--" + f.name.replace("_", "-")
            choices = f.metadata.get("choices")
            among = f"one of {', '.join(choices)}; " if choices else ""
            help_text = f"{f.metadata.get('help', '')} ({among}default: {f.default})"
            dest = f"{section}.{f.name}"
            if f.type in ("bool", bool):
                group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help_text)
            else:
                kind_of = {"int": int, "float": float}.get(str(f.type), str)
                group.add_argument(flag, dest=dest, type=kind_of, default=None, help=help_text,
                                   choices=f.metadata.get("choices"), metavar=f.name.upper())


def config_overrides(args: argparse.Namespace) -> dict:
    overrides: dict[str, dict] = {name: {} for name in SECTIONS}
    for key, value in vars(args).items():
        if "." in key and value is not None:
            section, name = key.split(".", 1)
            overrides[section][name] = value
    return overrides


# ---- commands ------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from rnnlab.config import build_config
    from rnnlab.train.session import train

    overrides = config_overrides(args)
    if args.resume:
        note_ignored_on_resume(args, overrides)
    if cli_seq2seq.train_other_task(args, overrides):     # --task seq2seq (or a seq2seq / dialogue run to resume)
        return 0
    if args.resume:
        train(None, args.out, resume=True, overrides=overrides)
        return 0
    if not args.corpus:
        raise RnnlabError("train needs a CORPUS (a text file, a folder, or a name from `rnnlab data list`)")
    overrides["data"]["corpus"] = args.corpus
    _default_level(args, overrides)
    config = build_config(args.preset or "", overrides)
    train(config, args.out)
    return 0


def note_ignored_on_resume(args, overrides: dict) -> None:
    """--resume keeps the run's settings: say which of the given flags it will not apply."""
    from rnnlab.config import RESUMABLE
    ignored = [f"--{k.replace('_', '-')}" for section in overrides.values() if isinstance(section, dict)
               for k in section if k not in RESUMABLE] + (["CORPUS"] if args.corpus else []) \
        + (["--preset"] if args.preset else [])
    if ignored:
        print(f"note: --resume continues with the run's saved settings; ignored: {', '.join(ignored)} "
              f"(it takes {', '.join('--' + k.replace('_', '-') for k in RESUMABLE)})", file=sys.stderr)


def _default_level(args, overrides) -> None:
    """A named corpus brings its own level (ptb: word) unless the preset or a flag says otherwise."""
    from rnnlab.data.corpora import CORPORA
    if args.corpus in CORPORA and CORPORA[args.corpus].modality != "text":   # music sets: --modality midi
        overrides["data"].setdefault("modality", CORPORA[args.corpus].modality)
        return
    if args.corpus in CORPORA and "level" not in overrides["data"] and not args.preset:
        overrides["data"]["level"] = CORPORA[args.corpus].level


def run_modality(path) -> str:
    from rnnlab.runs import RunDir
    return RunDir(path).load_config().data.modality


def cmd_evaluate_series(args) -> int:
    from rnnlab.tasks.series.evaluate import describe, evaluate_series_run

    result = evaluate_series_run(args.run, args.split, args.data, args.device, args.checkpoint)
    print(json.dumps(result, ensure_ascii=False) if args.json else describe(result))
    return 0


def cmd_generate_series(args) -> int:
    from rnnlab.generate.sampling import SamplingConfig
    from rnnlab.tasks.series.generate import generate_series
    from rnnlab.runs_open import open_run
    from rnnlab.train.distributed import pick_device
    from pathlib import Path

    if not args.out:
        raise RnnlabError(f"{args.run}: a series run writes CSV and PNG; pass --out forecast.csv")
    if args.prime:
        raise RnnlabError(f"{args.run}: a series run continues its data, or a CSV given as --prime-file; "
                          "--prime is for text and MIDI runs")
    trained = open_run(args.run, args.checkpoint, pick_device(args.device))
    config = SamplingConfig(length=args.length, temperature=args.temperature, greedy=args.greedy, seed=args.seed)
    written = generate_series(trained, config, Path(args.out), args.prime_file, args.context)
    print(f"{written['steps']} steps after {written['prime_steps']} of prime: {written['csv']}, {written['png']}")
    return 0


def cmd_evaluate(args) -> int:
    from rnnlab.tasks.language_model.evaluate import evaluate_run

    if args.batch_size < 1:
        raise RnnlabError("--batch-size must be at least 1 (1: the exact protocol)")

    if cli_seq2seq.evaluate_other_task(args):             # seq2seq runs, word2vec --analogies
        return 0
    if run_modality(args.run) == "series":
        return cmd_evaluate_series(args)
    if run_modality(args.run) == "midi":
        return cli_music.cmd_evaluate_midi(args)
    result = evaluate_run(args.run, args.split, args.data, args.batch_size, args.device, args.checkpoint,
                          args.engine)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        where = result["data"]
        bpc = f", {result['bpc']:.4f} bits/char" if result["level"] == "char" else ""
        print(f"{where}: perplexity {result['perplexity']:.2f}, NLL {result['nll']:.4f} nats/token{bpc} "
              f"over {result['tokens']:,} tokens (batch size {result['batch_size']}, state carried "
              f"across the whole text; {result['unknown_tokens']:,} tokens were <unk>)")
    return 0


def cmd_generate(args) -> int:
    from rnnlab.generate.sampling import SamplingConfig
    from rnnlab.tasks.language_model.generate import generate_text
    from rnnlab.runs_open import open_run
    from rnnlab.train.distributed import pick_device

    task = cli_seq2seq.run_task(args.run)
    if task not in ("", "lm"):
        command = {"dialogue": "respond", "word2vec": "similar"}.get(task, "translate")
        raise RnnlabError(f"{args.run}: a {task} run; use `rnnlab {command} {args.run} ...`")
    modality = run_modality(args.run)
    if modality == "series":
        return cmd_generate_series(args)
    if modality == "midi":
        return cli_music.cmd_generate_midi(args)
    trained = open_run(args.run, args.checkpoint, pick_device(args.device))
    config = SamplingConfig(length=args.length, temperature=args.temperature, top_k=args.top_k,
                            top_p=args.top_p, greedy=args.greedy, beam=args.beam, seed=args.seed)
    def write(piece: str) -> None:                  # the text appears as it is sampled
        sys.stdout.write(piece)
        sys.stdout.flush()

    generate_text(trained, args.prime, config, args.precision, note=lambda line: print(line, file=sys.stderr),
                  write=write)
    print()
    return 0


def cmd_data(args) -> int:
    from rnnlab.data import corpora

    if args.action == "list":
        for name, corpus in corpora.CORPORA.items():
            print(f"{name:16} {corpus.level:5} {corpora.status(name):40} {corpus.description}")
        for name, description in corpora.EMBEDDED.items():
            print(f"{name:16} {'char':5} {'embedded':40} {description}")
        return 0
    if not args.name:
        raise RnnlabError("data get needs a corpus NAME; `rnnlab data list` shows them")
    root = corpora.download(args.name, progress=lambda line: print(line, file=sys.stderr))
    print(f"{args.name}: ready in {root}")
    return 0


# ---- parser -------------------------------------------------------------------------------
def add_sampling_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--length", type=int, default=200, help="tokens to generate")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0, help="sample among the k most likely (0: all)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass")
    p.add_argument("--greedy", action="store_true", help="always take the most likely token")
    p.add_argument("--beam", type=int, default=0, help="beam search of this width")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"],
                   help="weights for sampling: int8 (CPU) is several times faster for large models, bf16 "
                        "halves the memory; either is measured against fp32 on the prime first")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnlab", description="Recurrent sequence models to learn, use and play with.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model into a run directory")
    p.add_argument("corpus", nargs="?", help="text file, folder, or named corpus (rnnlab data list)")
    p.add_argument("--out", required=True, help="run directory to create (or resume)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="a named recipe; flags override it")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    add_config_flags(p)

    p = sub.add_parser("evaluate", help="perplexity of a trained run")
    p.add_argument("run")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--data", help="evaluate on this text file instead of a split")
    p.add_argument("--batch-size", type=int, default=1, help="parallel streams (1: the exact protocol)")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy"],
                   help="numpy: read the weights into the from-scratch NumPy engine (text runs)")
    cli_seq2seq.add_evaluate_flags(p)                  # --beam, --length-penalty, --analogies

    p = sub.add_parser("generate", help="sample text from a trained run")
    p.add_argument("run")
    p.add_argument("--prime", default="", help="text to start from; midi runs: a MIDI file, seed events "
                   "of the run's vocabulary, or for piano rolls a chord such as 60,64,67")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"])
    p.add_argument("--device", default="auto")
    add_sampling_flags(p)
    p.add_argument("--out", help="series runs: CSV file to write (a PNG is drawn beside it); "
                   "midi runs: song.mid (song.wav and song.png beside it)")
    cli_music.add_generate_flags(p)   # --seconds, --bars
    p.add_argument("--prime-file", help="series runs: CSV/NPY to continue (default: the run's data; "
                   "strokes: a new drawing)")
    p.add_argument("--context", type=int, default=0, help="series runs: use only the prime's last N steps")

    p = sub.add_parser("serve", help="serve runs over HTTP, WebSocket and OSC (127.0.0.1)")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories; only these can be loaded")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8765, help="HTTP and WebSocket port")
    p.add_argument("--osc-port", type=int, default=57120, help="OSC (UDP) port (0: no OSC)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--max-sessions", type=int, default=64, help="recurrent states held at once")
    p.add_argument("--max-length", type=int, default=2000, help="longest generation or stream, in steps")
    p.add_argument("--max-request-bytes", type=int, default=65536, help="largest HTTP body / WebSocket message")
    p.add_argument("--max-batch", type=int, default=64, help="clients' one-step requests run as one batch (1: off)")
    p.add_argument("--quantize", action="store_true", help="int8 weights (CPU): much faster steps, tiny change in output")

    p = sub.add_parser("data", help="list or download the named corpora")
    p.add_argument("action", choices=["list", "get"])
    p.add_argument("name", nargs="?")
    cli_seq2seq.add_commands(sub)                      # translate, word2vec, similar, analogy
    scratch_commands.add_commands(sub)                 # NumPy engine: gradients, inspect, toy
    return parser


COMMANDS: dict[str, Callable] = {"train": cmd_train, "evaluate": cmd_evaluate, "generate": cmd_generate,
                                 "data": cmd_data}
COMMANDS["serve"] = lambda args: __import__("rnnlab.serve.app", fromlist=["cmd_serve"]).cmd_serve(args)
COMMANDS.update(cli_seq2seq.COMMANDS)
COMMANDS.update(scratch_commands.COMMANDS)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except RnnlabError as err:
        print(f"rnnlab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = "; `rnnlab train --resume --out RUN` continues it" if args.command == "train" else ""
        print(f"\nrnnlab: interrupted{hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:                      # `rnnlab generate ... | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:                       # a bug or a case we did not foresee: one line, not a traceback
        if os.environ.get("RNNLAB_DEBUG") and not isinstance(err, MemoryError):
            raise
        first = (str(err).strip().splitlines() or [""])[0][:300]
        if isinstance(err, MemoryError) or "can't allocate memory" in first or "not enough memory" in first.lower():
            print("rnnlab: error: out of memory; use a smaller model (--hidden, --layers) or --batch-size",
                  file=sys.stderr)
            return 2
        print(f"rnnlab: error: {type(err).__name__}: {first} (unexpected: please report it; "
              "RNNLAB_DEBUG=1 shows where it happened)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

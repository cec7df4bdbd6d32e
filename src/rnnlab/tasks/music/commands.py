"""The music side of `rnnlab generate` and `rnnlab evaluate`, called by cli.py for midi runs.

generate writes OUT.mid, OUT.wav (FluidSynth, when present) and OUT.png; evaluate prints the
per-token or frame-level NLL. Arguments arrive parsed; the work is in generate.music,
render/ and evaluation_midi.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rnnlab.errors import RnnlabError


def add_generate_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=None,
                   help="midi runs: seconds of new music after the primer (default 30)")
    p.add_argument("--bars", type=float, default=None, help="midi runs: bars of new music (4/4 unless the primer says)")


def output_paths(out: str) -> tuple[Path, Path, Path]:
    """song.mid -> (song.mid, song.wav, song.png); a name without .mid gets it."""
    path = Path(out)
    midi = path if path.suffix.lower() in (".mid", ".midi") else path.with_name(path.name + ".mid")
    return midi, midi.with_suffix(".wav"), midi.with_suffix(".png")


def cmd_generate_midi(args) -> int:
    from rnnlab.files import write_atomic
    from rnnlab.tasks.music.compose import Length, compose
    from rnnlab.generate.sampling import SamplingConfig
    from rnnlab.runs_open import open_run
    from rnnlab.render.audio import render_wav
    from rnnlab.render.pianoroll import draw_pianoroll
    from rnnlab.train.distributed import pick_device

    if not args.out:
        raise RnnlabError(f"{args.run}: a midi run writes MIDI, WAV and PNG; pass --out song.mid")
    if args.seconds is not None and args.bars is not None:
        raise RnnlabError("give the length as --seconds or --bars, not both")
    midi_path, wav_path, png_path = output_paths(args.out)
    if args.prime and Path(args.prime).is_file() and Path(args.prime).resolve() in (
            midi_path.resolve(), wav_path.resolve(), png_path.resolve()):
        raise RnnlabError(f"{midi_path}: is the primer being read; write the new music elsewhere")
    if not midi_path.parent.is_dir():
        raise RnnlabError(f"{midi_path.parent}: no such folder for --out")
    trained = open_run(args.run, args.checkpoint, pick_device(args.device))
    length = Length(seconds=args.seconds if args.seconds is not None else (0.0 if args.bars is not None else 30.0),
                    bars=args.bars or 0.0)
    sampling = SamplingConfig(length=1, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                              greedy=args.greedy, seed=args.seed)
    song = compose(trained, args.prime, length, sampling)
    if song.note:
        print(f"note: {song.note}", file=sys.stderr)
    write_atomic(midi_path, song.midi)
    midi_path.chmod(0o644)                      # a file to share, not a private temp file
    title = f"{Path(args.run).name}: {trained.tokenizer.name}, temperature {args.temperature}"
    draw_pianoroll(song.score, png_path, title, song.primer_seconds)
    skipped = render_wav(midi_path, wav_path)
    written = [str(midi_path), str(png_path)] + ([] if skipped else [str(wav_path)])
    print(f"{song.notes} notes, {song.generated_seconds:.1f} s generated after {song.primer_seconds:.1f} s "
          f"of primer: {', '.join(written)}")
    if skipped:
        print(skipped, file=sys.stderr)
    return 0


def cmd_evaluate_midi(args) -> int:
    from rnnlab.tasks.music.evaluate import describe, evaluate_midi_run

    result = evaluate_midi_run(args.run, args.split, args.data, args.batch_size, args.device, args.checkpoint)
    print(json.dumps(result, ensure_ascii=False) if args.json else describe(result))
    return 0

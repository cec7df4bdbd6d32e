"""`rnnlab generate` and `rnnlab evaluate` for the music tasks (MIDI events and piano rolls).

generate writes OUT.mid, OUT.ogg (or --audio mp3/flac/wav/none: FluidSynth's render, when present, made
loudness-even and tagged), OUT.png and OUT.json (the song's
musical statistics beside the training set's); evaluate prints the
per-token or frame-level NLL. Arguments arrive parsed; the work is in compose.py,
audio.py, drawing.py and each task's evaluate.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.tasks.music.compose import music_length
from rnnlab.generate.sampling import sampling_from_args


def output_paths(out: str, audio: str = "ogg") -> tuple[Path, Path | None, Path]:
    """song.mid -> (song.mid, song.ogg or None for --audio none, song.png); a name without .mid gets it."""
    path = Path(out)
    midi = path if path.suffix.lower() in (".mid", ".midi") else path.with_name(path.name + ".mid")
    return midi, None if audio == "none" else midi.with_suffix(f".{audio}"), midi.with_suffix(".png")


def generate_command(task, args) -> int:
    from rnnlab.files import write_atomic
    from rnnlab.tasks.music.audio import render_audio
    from rnnlab.tasks.music.drawing import draw_pianoroll
    from rnnlab.tasks.music.data import run_training_stats

    if not args.out:
        raise RnnlabError(f"{args.run}: a midi run writes MIDI, audio and PNG; pass --out song.mid")
    music_length(args.seconds, args.bars)                 # checked before anything is read
    midi_path, audio_path, png_path = output_paths(args.out, args.audio)
    json_path = midi_path.with_suffix(".json")
    written_paths = [p for p in (midi_path, audio_path, png_path, json_path) if p is not None]
    if args.prime and Path(args.prime).is_file() and Path(args.prime).resolve() in [p.resolve() for p in written_paths]:
        raise RnnlabError(f"{midi_path}: is the primer being read; write the new music elsewhere")
    if not midi_path.parent.is_dir():
        raise RnnlabError(f"{midi_path.parent}: no such folder for --out")
    model = task.load(args.run, args.checkpoint, args.device, args.threads)
    trained = model._opened
    sampling = sampling_from_args(args)                   # the flags this task takes; defaults for the others
    song = model.compose(seconds=args.seconds, bars=args.bars, prime=args.prime, temperature=sampling.temperature,
                         top_k=sampling.top_k, top_p=sampling.top_p, greedy=sampling.greedy, seed=sampling.seed)
    if song.note:
        print(f"note: {song.note}", file=sys.stderr)
    write_atomic(midi_path, song.midi)
    midi_path.chmod(0o644)                      # a file to share, not a private temp file
    title = f"{Path(args.run).name}: {trained.tokenizer.name}, temperature {args.temperature}"
    draw_pianoroll(song.score, png_path, title, song.primer_seconds)
    stats_line = write_song_stats(json_path, song, run_training_stats(trained))
    skipped = render_audio(midi_path, audio_path, title) if audio_path else None
    written = [str(midi_path), str(png_path), str(json_path)] + ([str(audio_path)] if audio_path and not skipped else [])
    print(f"{song.notes} notes, {song.generated_seconds:.1f} s generated after {song.primer_seconds:.1f} s "
          f"of primer: {', '.join(written)}")
    print(stats_line)
    if skipped:
        print(skipped, file=sys.stderr)
    return 0


def write_song_stats(path: Path, song, training: dict | None) -> str:
    """OUT.json: the song's musical statistics beside the training set's (null when they are absent);
    returns the line comparing their headline numbers."""
    from rnnlab.files import write_atomic
    from rnnlab.tasks.music.stats import comparison_line, piece_stats

    stats = piece_stats(song.score)
    payload = {"song": stats, "primer_seconds": round(song.primer_seconds, 3),
               "generated_seconds": round(song.generated_seconds, 3), "training": training}
    write_atomic(path, (json.dumps(payload, indent=1) + "\n").encode("utf-8"))
    path.chmod(0o644)
    return comparison_line(stats, training)


def evaluate_command(task, args) -> int:
    result = task.score(task.open_run(args.run, args.checkpoint, args.device, args.threads), args.split, args.data,
                        args.batch_size)
    print(json.dumps(result, ensure_ascii=False) if args.json else task.describe_score(result))
    return 0

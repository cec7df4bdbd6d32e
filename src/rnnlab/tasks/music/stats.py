"""Musical statistics of a piece, and of a training set, to set a generated song beside.

The pitch measures follow MusPy's definitions (Dong et al. 2020; `muspy.pitch_class_entropy`,
`polyphony`, `scale_consistency`, `pitch_range`), computed here from symusic scores; drums are
left out of them, as MusPy leaves them out:

- pitch-class histogram: the share of notes on each of the 12 pitch classes (C .. B);
- pitch-class entropy: that histogram's entropy in bits (0: one pitch class; log2 12 = 3.58: all equal);
- polyphony: the mean number of distinct pitches sounding, over the time in which at least one sounds;
- scale consistency: the largest share of notes inside one major or minor scale;
- pitch range: highest minus lowest pitch, in semitones.

Note density is every note (drums too) per second of the piece (from 0 to the last note's end).
A training set's statistics are the mean and the 10th / 90th percentiles of each measure over its
pieces as the run's tokeniser gives them back (what the model learnt from), and the histogram of
all their notes together; a run saves them as music_stats.json when it starts training.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from rnnlab.tasks.music.midi import PITCH_CLASSES, score_seconds

STATS_FILE = "music_stats.json"
MEASURES = ("note_density", "polyphony", "scale_consistency", "pitch_class_entropy", "pitch_range")
HEADLINE = (("note_density", "notes/s", "{:.2f}", ""), ("polyphony", "polyphony", "{:.2f}", ""),
            ("scale_consistency", "in scale", "{:.0%}", ""),
            ("pitch_class_entropy", "pitch-class entropy", "{:.2f}", " bits"))
MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)
SCALES = np.array([np.roll(scale, root) for scale in (MAJOR, MINOR) for root in range(12)])   # (24, 12)
MOST_PIECES = 500                 # a training set's statistics read at most this many pieces


def _pitched(score) -> list[tuple[int, int, int]]:
    """(start tick, end tick, pitch) of the notes of every track but the drums."""
    return [(n.start, n.end, n.pitch) for t in score.tracks if not t.is_drum for n in t.notes]


def pitch_class_counts(score) -> np.ndarray:
    counts = np.zeros(12, dtype=np.int64)
    for _, _, pitch in _pitched(score):
        counts[pitch % 12] += 1
    return counts


def entropy_bits(counts: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return math.nan
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def polyphony(score) -> float:
    """Mean number of distinct pitches sounding (a pitch held in two tracks counts once), over the
    ticks in which any sounds: MusPy's `polyphony`, from the notes' spans instead of a tick grid."""
    by_pitch: dict[int, list[tuple[int, int]]] = {}
    for start, end, pitch in _pitched(score):
        if end > start:
            by_pitch.setdefault(pitch, []).append((start, end))
    edges = []                                        # (tick, +1 / -1) of each pitch's merged spans
    for spans in by_pitch.values():
        spans.sort()
        begin, finish = spans[0]
        for start, end in spans[1:]:
            if start > finish:
                edges += [(begin, 1), (finish, -1)]
                begin, finish = start, end
            else:
                finish = max(finish, end)
        edges += [(begin, 1), (finish, -1)]
    if not edges:
        return math.nan
    edges.sort()
    sounding_time = busy_time = 0
    count, last = 0, edges[0][0]
    for tick, change in edges:
        if count:
            sounding_time += count * (tick - last)
            busy_time += tick - last
        count, last = count + change, tick
    return sounding_time / busy_time if busy_time else math.nan


def scale_consistency(counts: np.ndarray) -> float:
    total = counts.sum()
    return float((SCALES @ counts).max() / total) if total else math.nan


def piece_stats(score) -> dict:
    """A piece's statistics (see the module's doc); a measure that has no value (no pitched notes) is None."""
    counts = pitch_class_counts(score)
    pitches = [pitch for _, _, pitch in _pitched(score)]
    seconds = score_seconds(score) if score.note_num() else 0.0
    values = {"notes": int(score.note_num()), "seconds": round(seconds, 3),
              "note_density": score.note_num() / seconds if seconds > 0 else math.nan,
              "polyphony": polyphony(score), "scale_consistency": scale_consistency(counts),
              "pitch_class_entropy": entropy_bits(counts),
              "pitch_range": max(pitches) - min(pitches) if pitches else math.nan,
              "pitch_class_histogram": histogram(counts)}
    return {k: clean(v) for k, v in values.items()}


def histogram(counts: np.ndarray) -> dict[str, float] | None:
    total = counts.sum()
    return {name: round(float(c) / total, 4) for name, c in zip(PITCH_CLASSES, counts)} if total else None


def clean(value):
    """JSON-ready: NaN -> None, floats rounded to 4 places."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def corpus_stats(scores) -> dict:
    """Statistics of a set of pieces: each measure's mean, 10th and 90th percentile over the pieces
    that have it, and the pitch-class histogram of all their notes together."""
    per_piece, counts = [], np.zeros(12, dtype=np.int64)
    for score in scores:
        per_piece.append(piece_stats(score))
        counts += pitch_class_counts(score)
    out = {"pieces": len(per_piece), "notes": sum(p["notes"] for p in per_piece)}
    for measure in MEASURES:
        values = np.array([p[measure] for p in per_piece if p[measure] is not None], dtype=float)
        out[measure] = ({"mean": clean(float(values.mean())), "p10": clean(float(np.percentile(values, 10))),
                         "p90": clean(float(np.percentile(values, 90)))} if len(values) else None)
    out["pitch_class_histogram"] = histogram(counts)
    out["pitch_class_entropy_of_all_notes"] = clean(entropy_bits(counts))
    return out


def training_scores(tokenizer, pieces, encoded: dict, qpm: float | None = None):
    """The training pieces as the run's tokeniser gives them back (its quantisation, the tracks it
    keeps), at most MOST_PIECES of them: what the model learns from."""
    for piece in pieces[:MOST_PIECES]:
        known = encoded.get(id(piece))
        try:
            yield tokenizer.give_back(piece, known, qpm)
        except Exception:              # a piece the tokeniser cannot give back adds nothing to the statistics
            continue


def save_training_stats(folder: Path, stats: dict) -> None:
    (folder / STATS_FILE).write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")


def load_training_stats(folder: Path) -> dict | None:
    """The run's saved training-set statistics; None for a run trained before they were saved."""
    try:
        stats = json.loads((folder / STATS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stats if isinstance(stats, dict) else None


def comparison_line(song: dict, training: dict | None) -> str:
    """One line: the song's headline numbers, each beside the training pieces' mean (p10-p90)."""
    parts = []
    for key, label, form, unit in HEADLINE:
        value = song.get(key)
        text = f"{label} {form.format(value) + unit if value is not None else '-'}"
        known = (training or {}).get(key)
        if isinstance(known, dict) and known.get("mean") is not None:
            text += (f" (training {form.format(known['mean'])}, "
                     f"{form.format(known['p10'])}-{form.format(known['p90'])})")
        parts.append(text)
    tail = "" if training else "; the training set's statistics: absent"
    return "song: " + ", ".join(parts) + tail

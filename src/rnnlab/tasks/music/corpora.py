"""Named music corpora: the Bach chorales inside music21, and the four polyphonic benchmarks.

`bach-chorales` needs no download: music21 ships the chorales in its wheel; they are converted
to MIDI once and cached. `jsb`, `nottingham`, `musedata` and `piano-midi` are the piano-roll
sets of Boulanger-Lewandowski et al. (2012) with their own train/valid/test split, found in
`$RNNLAB_DATA` or fetched with SHA-256 checks by `rnnlab data get NAME` (data.corpora).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from rnnlab.data.corpora import cache_dir, locate
from rnnlab.tasks.music.midi import KEYS, Piece, read_midi_file
from rnnlab.tasks.music.frames import frames_from_pitch_lists
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic

STEPS_PER_BEAT = {"jsb": 1, "nottingham": 2, "musedata": 2, "piano-midi": 2}   # quarter / eighth notes
SPLITS = ("train", "valid", "test")


def is_frame_corpus(name: str) -> bool:
    return name in STEPS_PER_BEAT


def frame_splits(name: str) -> dict[str, list[Piece]]:
    """A benchmark set's own split, each sequence a Piece of (steps, 88) frames."""
    path = next(iter(locate(name).values()))
    rate = STEPS_PER_BEAT[name]
    if path.suffix == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            sequences = {s: [frames_from_pitch_lists(seq) for seq in raw[s]] for s in SPLITS}
        except (ValueError, KeyError, TypeError):
            raise RnnlabError(f"{path}: not the benchmark's JSON layout (train/valid/test lists of steps)") from None
    else:
        try:
            from scipy.io import loadmat
        except ImportError:
            raise RnnlabError(f"{path}: reading .mat needs scipy: pip install 'rnnlab[music]'") from None
        try:
            raw = loadmat(path)
            sequences = {s: [np.asarray(seq, dtype=bool) for seq in raw[f"{s}data"][0]] for s in SPLITS}
        except (ValueError, KeyError, TypeError, OSError):
            raise RnnlabError(f"{path}: not the benchmark's .mat layout (traindata/validdata/testdata)") from None
        if any(seq.ndim != 2 or seq.shape[1] != KEYS for seqs in sequences.values() for seq in seqs):
            raise RnnlabError(f"{path}: sequences are not (steps, 88) piano rolls")
    return {s: [Piece(f"{name}-{s}-{i}", frames=f, steps_per_beat=rate) for i, f in enumerate(seqs)]
            for s, seqs in sequences.items()}


# ---- bach-chorales -----------------------------------------------------------------------------
def chorale_sources() -> list[Path]:
    """The chorale scores inside the installed music21 (MusicXML, else Humdrum; not the analyses)."""
    try:
        from music21 import corpus
    except ImportError:
        raise RnnlabError("bach-chorales needs music21: pip install 'rnnlab[chorales]'") from None
    preference = {".mxl": 0, ".xml": 1, ".krn": 2}
    by_name: dict[str, Path] = {}
    for path in sorted(corpus.getComposer("bach"), key=lambda p: preference.get(p.suffix, 9)):
        if path.suffix in preference:
            by_name.setdefault(path.stem, path)          # one file per chorale
    return [by_name[name] for name in sorted(by_name)]


def chorales_folder() -> Path:
    return cache_dir() / "music" / "bach-chorales"


def convert_chorales(limit: int = 0, progress: Callable[[str], None] = print) -> Path:
    """Write each music21 chorale as MIDI into the cache once; later calls reuse the files."""
    sources = chorale_sources()[: limit or None]          # first: without music21, one line naming the extra
    from music21 import converter, midi

    folder = chorales_folder()
    done_marker = folder / "complete.json"
    if done_marker.exists() and json.loads(done_marker.read_text()).get("count") == len(sources):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    progress(f"bach-chorales: converting {len(sources)} music21 chorales to MIDI once, into {folder}")
    failed = []
    for index, source in enumerate(sources, 1):
        target = folder / f"{source.stem}.mid"
        if not target.exists():
            try:
                write_atomic(target, midi.translate.streamToMidiFile(converter.parse(source)).writestr())
            except Exception as err:  # music21 raises many kinds; one bad score must not stop the rest
                failed.append(f"{source}: music21 could not convert it ({type(err).__name__})")
                progress(f"warning: {failed[-1]}; skipped")
        if index % 100 == 0:
            progress(f"bach-chorales: {index}/{len(sources)}")
    write_atomic(done_marker, json.dumps({"count": len(sources), "failed": failed}))
    return folder


def chorale_pieces(warn: Callable[[str], None] = print, limit: int = 0) -> tuple[list[Piece], list[str]]:
    """The cached chorales as pieces, and one reason per chorale that could not be used."""
    folder = convert_chorales(limit, warn)
    skipped = list(json.loads((folder / "complete.json").read_text()).get("failed") or [])
    pieces = []
    for path in sorted(folder.glob("*.mid"))[: limit or None]:
        try:
            pieces.append(read_midi_file(path))
        except RnnlabError as err:
            skipped.append(str(err))
            warn(f"warning: {err}; skipped")
    return pieces, skipped


"""Whether files on disk are MIDI, by their first bytes rather than their names."""

from __future__ import annotations

from pathlib import Path

MIDI_MAGIC = (b"MThd", b"RIFF")          # a Standard MIDI File, or one wrapped in RIFF (RMID)


def is_midi_file(path: Path) -> bool:
    """Whether a file is MIDI by its first bytes, whatever its name."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) in MIDI_MAGIC
    except OSError:
        return False


def holds_midi(source: str) -> bool:
    """Whether a corpus on disk is MIDI by its content: a MIDI file, or a folder holding MIDI files
    and no text, table or JSON files."""
    path = Path(source)
    if path.is_file():
        return is_midi_file(path)
    if not path.is_dir():
        return False
    files = [f for f, _ in zip((f for f in path.rglob("*") if f.is_file()), range(2000))]
    if any(f.suffix.lower() in (".txt", ".csv", ".tsv", ".npy", ".json") for f in files):
        return False
    return any(is_midi_file(f) for f in files[:200])

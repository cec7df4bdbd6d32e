"""A piano-roll picture of a score: time in seconds across, pitch up, one colour per instrument."""

from __future__ import annotations

from pathlib import Path

from rnnlab.files import save_figure


def draw_pianoroll(score, path: Path, title: str = "", primer_seconds: float = 0.0) -> None:
    """PNG of every note of `score` (a symusic Score); the primer's end marked by a dashed line."""
    save_figure(pianoroll_figure(score, title, primer_seconds), path)


def pianoroll_figure(score, title: str = "", primer_seconds: float = 0.0):
    """A matplotlib Figure of every note of `score` (a symusic Score), apart from pyplot's state."""
    from matplotlib.figure import Figure

    seconds = score.to("second")
    end = max(float(seconds.end()), 1.0)
    fig = Figure(figsize=(min(4 + end / 2, 24), 5))
    ax = fig.subplots()
    pitches, labelled = [], 0
    for index, track in enumerate(seconds.tracks):
        bars = [(note.start, max(note.duration, 0.01), note.pitch) for note in track.notes]
        for start, length, pitch in bars:
            ax.broken_barh([(start, length)], (pitch - 0.4, 0.8), facecolors=f"C{index % 10}")
        pitches += [pitch for _, _, pitch in bars]
        if bars:
            labelled += 1
            ax.plot([], [], color=f"C{index % 10}", lw=6, label="drums" if track.is_drum else f"program {track.program}")
    if primer_seconds > 0:
        ax.axvline(primer_seconds, color="k", ls="--", lw=1)
        ax.text(primer_seconds, max(pitches or [60]) + 2, " generated →", va="bottom", fontsize=8)
    ax.set_xlim(0, end)
    ax.set_ylim(min(pitches or [48]) - 3, max(pitches or [72]) + 5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title)
    if labelled > 1:
        ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig

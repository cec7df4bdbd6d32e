"""A trained music model in Python: compose a `Song`, then save it as MIDI, render it, draw it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.generate.sampling import sampling_with
from rnnlab.tasks.trained import TrainedModel


@dataclass
class Song:
    """New music: the MIDI file's bytes and its symusic Score (primer included), with its lengths."""

    midi: bytes
    score: object                 # symusic.Score of primer + continuation
    primer_seconds: float
    generated_seconds: float
    notes: int
    note: str = ""                # one line about an ignored setting, or ""

    def save(self, path: str | Path) -> Path:
        """Write the song as a Standard MIDI File (`.mid` added when the name has no MIDI suffix)."""
        path = Path(path)
        if path.suffix.lower() not in (".mid", ".midi"):
            path = path.with_name(path.name + ".mid")
        if not path.parent.is_dir():
            raise RnnlabError(f"{path.parent}: no such folder to write {path.name} in")
        write_atomic(path, self.midi)
        return path

    def render(self, path: str | Path, title: str = "") -> Path:
        """Render the song to audio through FluidSynth and a General MIDI SoundFont; the suffix picks the
        format (.ogg, .mp3, .flac, .wav), loudness-normalised to -16 LUFS and titled `title` (default: the
        file's name)."""
        import tempfile

        from rnnlab.render.audio import audio_format, render_audio

        path = Path(path)
        audio_format(path)
        if not path.parent.is_dir():
            raise RnnlabError(f"{path.parent}: no such folder to write {path.name} in")
        with tempfile.TemporaryDirectory() as folder:
            midi = self.save(Path(folder) / "song.mid")
            problem = render_audio(midi, path, title)
        if problem:
            raise RnnlabError(problem)
        return path

    def plot(self, title: str = ""):
        """The song as a piano roll (a matplotlib Figure), the primer shaded."""
        from rnnlab.render.pianoroll import pianoroll_figure

        return pianoroll_figure(self.score, title, self.primer_seconds)


class MusicModel(TrainedModel):
    """A music model: MIDI as event tokens (midi-events) or as piano-roll frames (pianoroll).

    >>> song = rnnlab.load(run_path).compose(seconds=30, temperature=0.9, seed=1)   # doctest: +SKIP
    >>> song.save("song.mid"); song.render("song.ogg"); song.plot()                 # doctest: +SKIP
    """

    verbs = ("compose", "evaluate")
    kind = "music model"

    def compose(self, seconds: float | None = None, bars: float | None = None, prime: str = "",
                temperature: float | None = None, top_k: int | None = None, top_p: float | None = None,
                greedy: bool | None = None, seed: int | None = None) -> Song:
        """New music after `prime` (a MIDI file, seed events, or for piano rolls a chord such as
        "60,64,67"; nothing: the start of a piece), `seconds` (default 30) or `bars` long."""
        from rnnlab.tasks.music.commands import music_length
        from rnnlab.tasks.music.compose import compose

        length = music_length(seconds, bars)
        config = sampling_with(None, length=1, temperature=temperature, top_k=top_k, top_p=top_p, greedy=greedy,
                                 seed=seed)
        piece = compose(self._opened, prime, length, config)
        return Song(piece.midi, piece.score, piece.primer_seconds, piece.generated_seconds, piece.notes, piece.note)

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1) -> dict:
        """NLL per event token, or per frame for piano rolls, on a split or a folder of MIDI files."""
        from rnnlab.tasks.music.evaluate import evaluate_midi_run

        return evaluate_midi_run(self._opened, split, data, batch_size)

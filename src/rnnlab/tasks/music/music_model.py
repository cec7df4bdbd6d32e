"""A trained music model in Python: compose a `Song` (rnnlab.tasks.music.compose), then save it as MIDI,
render it, draw it."""

from __future__ import annotations

from typing import TYPE_CHECKING


from rnnlab.generate.sampling import sampling_with
from rnnlab.tasks.trained import TrainedModel

if TYPE_CHECKING:
    from rnnlab.tasks.music.compose import Song


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
        from rnnlab.tasks.music.compose import check_request, music_length

        length = music_length(seconds, bars)
        config = sampling_with(None, length=1, temperature=temperature, top_k=top_k, top_p=top_p, greedy=greedy,
                               seed=seed)
        check_request(length, config)
        return self._task.compose(self._opened, prime, length, config)

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1) -> dict:
        """NLL per event token, or per frame for piano rolls, on a split or a folder of MIDI files."""
        return self._task.score(self._opened, split, data, batch_size)

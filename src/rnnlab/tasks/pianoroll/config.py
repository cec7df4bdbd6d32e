"""The piano-roll task's own settings (config.json's "pianoroll" section)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.options import TaskSettings, older_sections, option


@dataclass
class PianorollConfig(TaskSettings):
    """The frame grid, the training copies, and the output over a frame's 88 keys."""

    section = "pianoroll"

    steps_per_beat: int = option(0, "frames per quarter note (0: the corpus's own, else 4)", minimum=0)
    transpose: int = option(0, "also train on copies transposed by up to +-N semitones (0..12)", minimum=0, maximum=12)
    frame_head: str = option("bernoulli", "output: an independent Bernoulli per key, or nade (the keys of a frame "
                             "one after another, as RNN-NADE)", ("bernoulli", "nade"))
    nade_hidden: int = option(128, "--frame-head nade: NADE hidden units", minimum=1)

    @classmethod
    def from_older(cls, raw: dict) -> dict | None:
        data, model = older_sections(raw)
        if data.get("modality") != "midi" or data.get("tokenizer") != "pianoroll":
            return None
        return {**{k: data[k] for k in ("steps_per_beat", "transpose") if k in data},
                **{k: model[k] for k in ("frame_head", "nade_hidden") if k in model}}

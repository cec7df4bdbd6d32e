"""The MIDI-events task's own settings (config.json's "midi" section)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.options import TaskSettings, older_sections, option

EVENT_SCHEMES = ("smf-events", "performance", "remi", "tsd")     # the tokenizers' names (tokenizers.py)


@dataclass
class MidiConfig(TaskSettings):
    """How MIDI files become training material beyond the tokeniser (--tokenizer picks that)."""

    section = "midi"

    transpose: int = option(0, "also train on copies transposed by up to +-N semitones (0..12)", minimum=0, maximum=12)

    @classmethod
    def from_older(cls, raw: dict) -> dict | None:
        data, _ = older_sections(raw)
        if data.get("modality") != "midi" or data.get("tokenizer") not in ("auto", *EVENT_SCHEMES):
            return None
        return {k: data[k] for k in ("transpose",) if k in data}

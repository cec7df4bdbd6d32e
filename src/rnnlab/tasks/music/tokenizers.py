"""Every MIDI event tokeniser by name, one interface."""

from __future__ import annotations

from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.tasks.music.miditok_schemes import RemiTokenizer, TsdTokenizer
from rnnlab.tasks.music.performance import PerformanceTokenizer
from rnnlab.tasks.music.smf_events import SmfEventsTokenizer

# name -> class, built as Class(settings: dict, run_folder: Path | None)
TOKENIZERS = {"smf-events": SmfEventsTokenizer, "performance": PerformanceTokenizer, "remi": RemiTokenizer,
              "tsd": TsdTokenizer}


def make_tokenizer(settings: dict, run_folder: Path | None = None):
    """The tokeniser named in settings["name"], configured by the rest of settings."""
    name = settings.get("name", "")
    if name not in TOKENIZERS:
        raise RnnlabError(f"unknown MIDI tokenizer {name!r}; choose one of: {', '.join(TOKENIZERS)}")
    return TOKENIZERS[name](settings, run_folder)


def load_midi_tokenizer(payload: dict, run_folder: Path):
    """The tokeniser a run saved (vocab.json's "tokenizer" entry)."""
    return make_tokenizer(payload.get("tokenizer", {}), run_folder)

"""The table of tasks: one line each, naming where its Task class, its own settings and its named
recipes live.

Read without importing any task: config.json's reader asks only for the small settings modules
(dataclasses, no PyTorch), and the registry imports a task's code the first time it is used. A
new kind of run is its package and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Listing:
    """Where a task lives: "module:Class" of its Task, of its settings (a TaskSettings dataclass), and
    "module:NAME" of its named recipes (a dict of presets)."""

    task: str
    settings: str = ""
    presets: str = ""


CATALOG: dict[str, Listing] = {
    "lm": Listing("rnnlab.tasks.language_model.task:LanguageModelTask",
                  presets="rnnlab.tasks.language_model.presets:PRESETS"),
    "midi-events": Listing("rnnlab.tasks.music.task:MidiEventsTask", "rnnlab.tasks.music.config:MidiConfig"),
    "pianoroll": Listing("rnnlab.tasks.pianoroll.task:PianorollTask", "rnnlab.tasks.pianoroll.config:PianorollConfig",
                         "rnnlab.tasks.pianoroll.presets:PRESETS"),
    "series": Listing("rnnlab.tasks.series.task:SeriesTask", "rnnlab.tasks.series.config:SeriesConfig"),
    "seq2seq": Listing("rnnlab.tasks.seq2seq.task:Seq2SeqTask", "rnnlab.tasks.seq2seq.config:Seq2SeqConfig",
                       "rnnlab.tasks.seq2seq.presets:PRESETS"),
    "dialogue": Listing("rnnlab.tasks.dialogue.task:DialogueTask", "rnnlab.tasks.dialogue.config:DialogueConfig"),
    "word2vec": Listing("rnnlab.tasks.word2vec.task:Word2VecTask"),
}


def find(reference: str):
    """The object a "module:name" reference names."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def task_settings() -> dict[str, type]:
    """Every task's own config section, by the name it has in config.json."""
    found: dict[str, type] = {}
    for listing in CATALOG.values():
        if listing.settings:
            kind = find(listing.settings)
            found[kind.section] = kind
    return found


def task_presets() -> dict[str, dict]:
    """Every task's named recipes in one table (catalog order); a name two tasks use is an error."""
    table: dict[str, dict] = {}
    for name, listing in CATALOG.items():
        if listing.presets:
            for preset, recipe in find(listing.presets).items():
                if preset in table:
                    raise ValueError(f"preset {preset!r} is named by two tasks (the second: {name})")
                table[preset] = recipe
    return table

"""The backwards task's own settings: config.json's "backwards" section."""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.options import TaskSettings, option


@dataclass
class BackwardsConfig(TaskSettings):
    section = "backwards"

    forwards_too: bool = option(False, "also learn the text forwards (the training split read both ways)")

"""What every config section is made of: fields that carry their own help, and the base of a
task's own section.

A field's help (and allowed values, lowest and highest value) lives in `metadata`, so that the command
line, the checks and the reference pages all read one declaration.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="TaskSettings")


def option(default: Any, help: str, choices: tuple | None = None, minimum: float | None = None,
           maximum: float | None = None) -> Any:
    """A dataclass field whose help (allowed values, lowest and highest value) the CLI shows and
    `validate` checks."""
    return field(default=default, metadata={"help": help, "choices": choices, "minimum": minimum, "maximum": maximum})


class TaskSettings:
    """A task's own part of a run's config: a dataclass saved in config.json under `section`, made
    from that task's `train` flags, and read back with `of`.

    >>> from rnnlab.tasks.series.config import SeriesConfig
    >>> SeriesConfig.of(rnnlab.configure("statsmodels:sunspots", max_minutes=1)).missing
    'error'
    """

    section: ClassVar[str]

    @classmethod
    def of(cls: type[T], config) -> T:
        """This section of `config` (a RunConfig); its defaults when the run has none."""
        found = config.sections.get(cls.section)
        if found is None:
            return cls()
        if not isinstance(found, cls):
            raise TypeError(f"the {cls.section!r} section holds a {type(found).__name__}, not a {cls.__name__}")
        return found

    @classmethod
    def from_older(cls, raw: dict) -> dict | None:
        """This section's values in a config.json written before the task had a section of its own
        (its fields then lived in data and model); None when `raw` is not such a run of this task."""
        return None


def older_sections(raw: dict) -> tuple[dict, dict]:
    """The data and model sections of an older config.json, each {} when it is not a JSON object."""
    return tuple(raw.get(name) if isinstance(raw.get(name), dict) else {} for name in ("data", "model"))


def field_names(kind: type) -> tuple[str, ...]:
    """The names of a section's fields, in order (a task takes all of its own section's flags)."""
    import dataclasses

    return tuple(f.name for f in dataclasses.fields(kind))

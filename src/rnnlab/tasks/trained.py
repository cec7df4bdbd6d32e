"""A trained model as Python code holds it: one class per task, each with the verbs that fit it.

`rnnlab.load(RUN)` returns one of these. Every verb any task has is named here, so a verb that
does not fit a model (`translate` on a text model) raises a one-line `VerbNotSupported` that names
the verbs it has, instead of an AttributeError.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rnnlab.errors import RnnlabError

if TYPE_CHECKING:
    from rnnlab.config import RunConfig

VERBS = ("generate", "stream", "perplexity", "compose", "forecast", "translate", "respond", "similar", "analogy")


class VerbNotSupported(RnnlabError, TypeError):
    """A verb asked of a model whose task has no such verb (a text model asked to translate)."""


class TrainedModel:
    """A run directory opened for use: its config, vocabulary and weights, and its task's verbs.

    >>> import rnnlab
    >>> model = rnnlab.load(run_path)                        # doctest: +SKIP
    >>> model.task, model.verbs                              # doctest: +SKIP
    ('lm', ('generate', 'stream', 'perplexity', 'evaluate'))
    """

    verbs: ClassVar[tuple[str, ...]] = ()            # the task's verbs, besides evaluate
    kind: ClassVar[str] = "model"                     # what the model is, in words, for messages

    def __init__(self, task, opened: Any, path: Path, checkpoint: str):
        self._task = task
        self._opened = opened                         # what the task's open_run returned
        self.path = Path(path)
        self.checkpoint = checkpoint

    @property
    def task(self) -> str:
        """The task's name: lm, midi-events, pianoroll, series, seq2seq, dialogue or word2vec."""
        return self._task.name

    @property
    def config(self) -> "RunConfig":
        """The run's configuration (config.json) as dataclasses."""
        return self._opened.config

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1) -> dict:
        """Score the model on a split of its data (or a file), as `rnnlab evaluate --json` prints it."""
        raise VerbNotSupported(f"{self.path}: a {self.kind} has no evaluate; its verbs: {self.verb_list()}")

    def verb_list(self) -> str:
        return ", ".join(self.verbs) or "none"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.task} run {str(self.path)!r} ({self.checkpoint} checkpoint)>"


def refuse(verb: str):
    """A verb this kind of model does not have: a clear error naming the ones it does."""
    def method(self, *args, **kwargs):
        raise VerbNotSupported(f"{self.path}: a {self.kind} has no {verb}(); its verbs: {self.verb_list()}")
    method.__name__ = verb
    method.__doc__ = f"{verb}: only models whose task has it (see `verbs`); others raise VerbNotSupported."
    return method


for _verb in VERBS:
    setattr(TrainedModel, _verb, refuse(_verb))

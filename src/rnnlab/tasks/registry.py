"""Every kind of run rnnlab knows, and the two ways in: a run directory's task, and training one.

The task of a run is read from its config (`Task.claims`), so a run directory needs no note of
which code wrote it; a new kind of run is one more class in TASKS.
"""

from __future__ import annotations

from pathlib import Path

import torch

from rnnlab.config import RunConfig, with_resumable
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.tasks.base import Task, TrainedRun
from rnnlab.tasks.dialogue.task import DialogueTask
from rnnlab.tasks.language_model.task import LanguageModelTask
from rnnlab.tasks.music.task import MidiEventsTask, PianorollTask
from rnnlab.tasks.seq2seq.task import Seq2SeqTask
from rnnlab.tasks.series.task import SeriesTask
from rnnlab.tasks.word2vec.task import Word2VecTask
from rnnlab.train.callbacks import Callback

TASKS: dict[str, Task] = {task.name: task for task in (
    LanguageModelTask(), MidiEventsTask(), PianorollTask(), SeriesTask(), Seq2SeqTask(), DialogueTask(),
    Word2VecTask())}


def task_for(config: RunConfig, where: Path | str = "") -> Task:
    """The task a config belongs to."""
    for task in TASKS.values():
        if task.claims(config):
            return task
    raise RnnlabError(f"{where or config.data.corpus}: no rnnlab task takes task {config.data.task!r} with "
                      f"modality {config.data.modality!r}")


def task_of_run(path) -> Task:
    run = RunDir(path)
    return task_for(run.load_config(), run.config_path)


def open_run(path, which: str = "best", device: str | torch.device = "cpu") -> TrainedRun:
    """Any run directory, ready to use: its config, vocabulary or statistics, and weights."""
    return task_of_run(path).open_run(path, which, device)


def train(config: RunConfig | None, out, resume: bool = False, overrides: dict | None = None,
          callbacks: list[Callback] = (), log=print) -> list[dict]:
    """Train `config` into run directory `out`, or resume the run there; returns its metrics records."""
    run = RunDir(out)
    if resume:
        run.check_resumable()
        config = with_resumable(run.load_config(), overrides)
    task = task_for(config)
    extra = []
    if config.train.tensorboard:
        from rnnlab.train.tensorboard import TensorBoard
        extra.append(TensorBoard(run.path / "tensorboard"))
    return task.train(config, run, resume, [*extra, *callbacks], log)

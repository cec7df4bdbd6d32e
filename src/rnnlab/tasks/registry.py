"""Every kind of run rnnlab knows, and the two ways in: a run directory's task, and training one.

The task of a run is read from its config (`Task.claims`), so a run directory needs no note of
which code wrote it; a new kind of run is one more line in `rnnlab.tasks.catalog`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from pathlib import Path

import torch

from rnnlab.config import RunConfig, with_resumable
from rnnlab.data.corpora import corpus_on_disk, saved_corpus
from rnnlab.errors import RnnlabError
from rnnlab.locks import hold_run
from rnnlab.runs import RunDir
from rnnlab.tasks.base import Task, TrainedRun
from rnnlab.tasks.catalog import CATALOG, Listing, find
from rnnlab.train.callbacks import Callback, ProgressBar
from rnnlab.train.distributed import launched_as_main


class TaskTable(Mapping):
    """The tasks of the catalog by name, each made the first time it is asked for."""

    def __init__(self) -> None:
        self._made: dict[Listing, Task] = {}

    def __getitem__(self, name: str) -> Task:
        listing = CATALOG[name]
        if listing not in self._made:
            self._made[listing] = find(listing.task)()
        return self._made[listing]

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOG)

    def __len__(self) -> int:
        return len(CATALOG)


TASKS: Mapping[str, Task] = TaskTable()


def task_for(config: RunConfig, where: Path | str = "") -> Task:
    """The task a config belongs to."""
    for task in TASKS.values():
        if task.claims(config):
            return task
    tokenizer = f" and tokenizer {config.data.tokenizer!r}" if config.data.tokenizer != "auto" else ""
    raise RnnlabError(f"{where or config.data.corpus}: no rnnlab task takes task {config.data.task!r} with "
                      f"modality {config.data.modality!r}{tokenizer}")


def task_of_run(path) -> Task:
    run = RunDir(path)
    return task_for(run.load_config(), run.config_path)


def open_run(path, which: str = "best", device: str | torch.device = "cpu") -> TrainedRun:
    """Any run directory, ready to use: its config, vocabulary or statistics, and weights."""
    return task_of_run(path).open_run(path, which, device)


def named_by_a_task(corpus: str) -> bool:
    """A corpus name that only a task knows (pair and dialogue sets, statsmodels series)."""
    return any(task.owns_corpus_name(corpus) for task in TASKS.values())


def with_corpus(config: RunConfig, corpus: str) -> RunConfig:
    return dataclasses.replace(config, data=dataclasses.replace(config.data, corpus=corpus))


def train(config: RunConfig | None, out, resume: bool = False, overrides: dict | None = None,
          callbacks: list[Callback] = (), log=print, progress: bool = True) -> list[dict]:
    """Train `config` into run directory `out`, or resume the run there; returns its metrics records.
    The process trains with the run's lock held (under torchrun, the first process holds it).
    `progress`: a progress bar per epoch (tqdm; a widget in a notebook)."""
    run = RunDir(out)
    if not resume:
        corpus = config.data.corpus
        config = with_corpus(config, corpus_on_disk(corpus, named_by_a_task(corpus)))
    run.refuse_if_foreign(resume)                   # nothing, not even the lock, written into a folder not ours
    with hold_run(run.path) if launched_as_main() else nullcontext():
        if resume:
            run.check_resumable()
            config = with_resumable(run.load_config(), overrides)
            corpus = config.data.corpus
            config = with_corpus(config, saved_corpus(corpus, run.path, named_by_a_task(corpus)))
        task = task_for(config)
        extra: list[Callback] = [ProgressBar()] if progress else []
        if config.train.tensorboard:
            from rnnlab.train.tensorboard import TensorBoard
            extra.append(TensorBoard(run.path / "tensorboard"))
        return task.train(config, run, resume, [*extra, *callbacks], log)


def choose_task(corpus: str, task_name: str | None = None, preset: str | None = None,
                data: dict | None = None) -> Task:
    """The task a new run is: `task_name`, else what the preset, the named corpus, the data settings
    (modality, tokenizer) or the files themselves say, else lm."""
    from rnnlab.config import build_config
    from rnnlab.data import corpora
    from rnnlab.presets import PRESETS

    if task_name:
        if task_name not in TASKS:
            raise RnnlabError(f"unknown task {task_name!r}; rnnlab has: {', '.join(TASKS)}")
        return TASKS[task_name]
    recipe = dict(PRESETS.get(preset or "", {}).get("data", {}))
    named = corpora.CORPORA.get(corpus or "")
    if named and not {"task", "modality"} & recipe.keys():
        return TASKS[named.task]
    for task in TASKS.values():
        if task.owns_corpus_name(corpus):
            return task
    recipe.update({k: v for k, v in (data or {}).items() if k in ("modality", "tokenizer") and v is not None})
    if not {"task", "modality"} & recipe.keys() and corpus:
        # the first task that recognises the files says what they are (the two music tasks would both
        # read the whole folder to say the same)
        recipe.update(next((found for task in TASKS.values() if (found := task.recognises(corpus))), {}))
    return task_for(build_config("", {"data": {**recipe, "corpus": corpus or ""}}))


def tasks_taking(option: str, kind: str = "train") -> list[str]:
    """The tasks whose `kind` command (train, evaluate or generate) takes `option` (a field name)."""
    def takes(task: Task) -> bool:
        if kind == "train":
            return any(option in names for names in task.options.values())
        return option in getattr(task, f"{kind}_options")
    return [task.name for task in TASKS.values() if takes(task)]


def train_option_refused(task: Task, option: str) -> RnnlabError:
    """The one line for a `train` option that `task` does not take."""
    return RnnlabError(f"--{option.replace('_', '-')} does not apply to a {task.name} run (it is a "
                       f"{', '.join(tasks_taking(option))} option); `rnnlab train --task {task.name} --help` "
                       "lists the options that do")

"""A task that exists only in the tests: a character model of a text read backwards.

It shows what adding a task takes: this package (the task, its own settings, its model class with
its verb, its command) and one line that puts it in the catalog of tasks.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import torch

from rnnlab.commands import Command
from rnnlab.config import RunConfig
from rnnlab.options import field_names
from rnnlab.tasks.language_model.data import prepare_text_run
from rnnlab.tasks.language_model.model import build_language_model
from rnnlab.tasks.language_model.task import LanguageModelTask
from rnnlab.tasks.language_model.text_model import TextModel
from rnnlab.tasks.stream import StreamTask
from rnnlab.tasks.trained import refuse
from tests.tasks.backwards.config import BackwardsConfig


class BackwardsModel(TextModel):
    """A text model that writes what comes before `ending`."""

    verbs = ("before", "evaluate")
    kind = "backwards text model"

    def before(self, ending: str, length: int = 20, seed: int | None = None) -> str:
        """`length` characters the model thinks precede `ending`, then `ending`."""
        pieces = TextModel.stream(self, ending[::-1], length=length, seed=seed)
        return "".join(pieces)[::-1]

    generate = refuse("generate")               # forwards: not what this model does


def add_before_arguments(p) -> None:
    p.add_argument("run")
    p.add_argument("ending")
    p.add_argument("--length", type=int, default=20)
    p.add_argument("--seed", type=int, default=None)


def cmd_before(args) -> int:
    from rnnlab.tasks.registry import task_of_run

    print(task_of_run(args.run).load(args.run).before(args.ending, args.length, args.seed))
    sys.stdout.flush()
    return 0


class BackwardsTask(StreamTask):
    name = "backwards"
    description = "characters of a text, read from its end to its start"
    model_class = BackwardsModel
    commands = {"before": Command(add_before_arguments, cmd_before, "what a backwards model thinks came before")}
    settings = BackwardsConfig
    options = {"data": ("split",), "model": ("layers", "hidden"), "train": ("epochs", "batch_size", "bptt", "threads",
                                                                             "max_minutes", "seed"),
               "backwards": field_names(BackwardsConfig)}

    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        return config.data.task == "backwards"

    def configure(self, data: dict) -> None:
        data.update(task="backwards", modality="text", level="char")

    def read(self, config, run_folder, resume):
        data = prepare_text_run(replace(config.data, level="char"), run_folder, resume)
        splits = {name: ids.flip(0) for name, ids in data.splits.items()}
        if BackwardsConfig.of(config).forwards_too:
            splits["train"] = torch.cat([splits["train"], data.splits["train"]])
        return replace(data, splits=splits, summary=f"{data.summary}; {splits['train'].numel():,} training steps")

    def read_assets(self, run):
        return LanguageModelTask.read_assets(self, run)

    def model_for(self, config: RunConfig, output_size: int):
        return build_language_model(config, output_size)

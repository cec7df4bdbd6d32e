"""What the training loop reports, and to whom: a progress bar, metrics.jsonl and its plot, log lines.

A callback overrides the events it cares about; each gets the trainer first, so it can read the
run directory, the progress and the objective without the loop knowing it exists.
"""

from __future__ import annotations

import math
from typing import Callable


from rnnlab.progress import progress_bar
from rnnlab.train.metrics import plot_metrics


class Callback:
    """The loop's events; each does nothing unless overridden."""

    def train_started(self, trainer) -> None: ...
    def epoch_started(self, trainer, batches: int, done: int) -> None: ...
    def step_done(self, trainer, info: dict) -> None: ...
    def epoch_ended(self, trainer, record: dict) -> None: ...
    def train_ended(self, trainer) -> None: ...
    def note(self, trainer, line: str) -> None: ...          # one line for the user (precision, --compile)


class ProgressBar(Callback):
    """A tqdm bar per epoch: running loss (and perplexity or bits per char), tokens per second."""

    def __init__(self):
        self.bar = None

    def epoch_started(self, trainer, batches: int, done: int) -> None:
        self.bar = progress_bar(total=batches, initial=done, desc=f"epoch {trainer.progress.epoch}")

    def step_done(self, trainer, info: dict) -> None:
        loss, unit = info["epoch_loss"], trainer.objective.unit
        shown = {"loss": f"{loss:.3f}"}
        if unit == "bpc":
            shown["bpc"] = f"{loss / math.log(2):.3f}"
        elif unit == "perplexity":
            shown["ppl"] = f"{math.exp(min(loss, 50)):.1f}"
        shown["tok/s"] = f"{info['tokens_per_second']:,.0f}"
        self.bar.update(1)
        self.bar.set_postfix(shown, refresh=False)

    def epoch_ended(self, trainer, record: dict) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class MetricsFile(Callback):
    """One line per epoch in metrics.jsonl and the curves in metrics.png."""

    def epoch_ended(self, trainer, record: dict) -> None:
        trainer.run.append_metrics(record)
        plot_metrics(trainer.run.read_metrics(), trainer.run.plot_path, trainer.objective.curves)


class EpochLog(Callback):
    """One line per epoch for the user, in the objective's words."""

    def __init__(self, log: Callable[[str], None]):
        self.log = log

    def epoch_ended(self, trainer, record: dict) -> None:
        self.log(trainer.objective.describe(record))

    def note(self, trainer, line: str) -> None:
        self.log(line)


class StepHook(Callback):
    """Calls `function(trainer, info)` after every optimiser step (tests stop a run with it)."""

    def __init__(self, function: Callable):
        self.function = function

    def step_done(self, trainer, info: dict) -> None:
        self.function(trainer, info)

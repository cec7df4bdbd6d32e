"""A task: everything that differs between kinds of run, behind one interface.

How its data is read and batched, its model, its loss and metrics (an `Objective` for the one
training loop), how it is evaluated and sampled, what its run directory keeps and how `serve`
steps it. Everything else (the loop, checkpoints, the run directory, the command line) is shared.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol

import torch
import torch.distributed as dist

from rnnlab.commands import Command
from rnnlab.options import TaskSettings
from rnnlab.config import RunConfig
from rnnlab.data.tokenize import Vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.gallery import WEIGHTS, is_shipped, read_weights
from rnnlab.models.averaging import AVERAGE_PREFIX, AveragedWeights, average_name
from rnnlab.runs import RunDir
from rnnlab.tasks.trained import TrainedModel
from rnnlab.train.callbacks import Callback, EpochLog, MetricsFile
from rnnlab.train.checkpoint import load_checkpoint
from rnnlab.train.distributed import Placement, pick_device, setup, teardown
from rnnlab.train.loop import Objective, Trainer
from rnnlab.train.precision import with_precision


class OpenedRun(Protocol):
    """What every task's opened run holds (TrainedRun for the stream and dialogue tasks, PairRun for
    seq2seq, VectorRun for word2vec, the NumPy engine's NumpyRun): its folder, config, device, threads."""

    run: RunDir
    config: RunConfig
    device: torch.device
    threads: int


@dataclass
class TrainedRun:
    """An opened run directory: its config and weights, and what its task reads and writes with."""

    run: RunDir
    config: RunConfig
    tokenizer: Any              # the task's own: TextTokenizer, a MIDI tokenizer, the piano-roll codec, None
    vocab: Vocabulary | None    # None where the task has no token vocabulary (series, piano rolls)
    model: torch.nn.Module
    device: torch.device
    assets: Any = None          # what a task saved beside its weights (series: SeriesSpec; music: its facts)
    threads: int = 0            # CPU threads for its work (0: timed, the faster count kept)


@dataclass
class Prepared:
    """A task's training data, ready for the loop: the objective is built once the model is."""

    summary: str                                    # one line for the log: how much data, what vocabulary
    output_size: int                                # vocabulary size, keys or features per step
    write: Callable[[Path], None]                   # saves vocabulary / statistics into a new run folder
    objective: Callable[[torch.nn.Module], Objective]
    # A task that needs more of its data to build its model subclasses this with typed fields.


class Task:
    """One kind of run. Subclasses name themselves, say which options apply and fill in the hooks."""

    name: ClassVar[str]
    description: ClassVar[str]
    # The `train` options that apply: config section -> field names (every other flag is refused).
    options: ClassVar[dict[str, tuple[str, ...]]]
    # The task's own config section (a TaskSettings dataclass beside the task), if it has one: every
    # new run of the task saves it, and the catalog's line names the same class.
    settings: ClassVar[type[TaskSettings] | None] = None
    modality: ClassVar[str] = "text"                # the kind of data its runs read (config.data.modality)
    tokenizers: ClassVar[tuple[str, ...]] = ()      # what --tokenizer may name for this task (MIDI schemes)
    default_preset: ClassVar[str] = ""               # the recipe used when no --preset is given
    defaults: ClassVar[dict] = {}                    # config values of this task's runs unless told otherwise
    # `evaluate` and `generate` flags this task takes beyond every run's (split, checkpoint, device,
    # json; temperature, greedy, seed): the others are refused in one line.
    evaluate_options: ClassVar[tuple[str, ...]] = ()
    generate_options: ClassVar[tuple[str, ...]] = ()
    trainer: ClassVar[type] = Trainer
    model_class: ClassVar[type[TrainedModel]] = TrainedModel     # what `rnnlab.load` gives for this task's runs
    commands: ClassVar[dict[str, Command]] = {}     # this task's own commands (`rnnlab translate`, ...)
    # How the NumPy engine (rnnlab.scratch) reads this task's runs: "tokens" (a language model over a
    # vocabulary), "frames" (a piano roll's recurrent stack), or "" (it does not); and what `rnnlab
    # inspect` reads them with: "text" or "midi".
    numpy_engine: ClassVar[str] = ""
    inspects: ClassVar[str] = ""
    exports: ClassVar[bool] = False                  # `rnnlab export` takes its runs (a language model over tokens)

    # ---- which runs are mine ---------------------------------------------------------------
    @classmethod
    def claims(cls, config: RunConfig) -> bool:
        """Whether a saved or freshly built config is a run of this task."""
        raise NotImplementedError

    @classmethod
    def owns_corpus_name(cls, name: str) -> bool:
        """Whether `name` is a named corpus only this task reads (beyond the shared table of corpora)."""
        return False

    @classmethod
    def recognises(cls, corpus: str) -> dict:
        """Data settings that files of this task's kind on disk imply ({"modality": "midi"}), else {}."""
        return {}

    def configure(self, data: dict) -> None:
        """Set the data fields that identify this task in a new run's config (`data` is the overrides)."""

    # ---- training ----------------------------------------------------------------------------
    def prepare(self, config: RunConfig, run: RunDir, resume: bool, placement: Placement) -> Prepared:
        raise NotImplementedError

    def build_model(self, config: RunConfig, prepared: Prepared) -> torch.nn.Module:
        raise NotImplementedError

    def after_build(self, model, config: RunConfig, run: RunDir, prepared: Prepared, log) -> None:
        """Anything done to a new model before training (pretrained embeddings)."""

    def describe_model(self, config: RunConfig, model) -> str:
        m = config.model
        params = sum(p.numel() for p in model.parameters())
        return f"{m.layers}x{m.hidden} {m.cell}, {params:,} parameters"

    def train(self, config: RunConfig, run: RunDir, resume: bool, callbacks: list[Callback], log) -> list[dict]:
        """Train into `run` (or resume it) through the one loop; returns the metrics records."""
        placement = setup(config.train.device, config.train.threads)
        try:
            config = with_precision(config, placement.device)     # auto settled; refused where it cannot run
            prepared = self.prepare(config, run, resume, placement)
            if not resume and placement.is_main:
                run.create(config)
                prepared.write(run.path)
            if placement.distributed:
                dist.barrier()
            torch.manual_seed(config.train.seed)
            random.seed(config.train.seed)
            model = self.build_model(config, prepared).to(placement.device)
            if not resume:
                self.after_build(model, config, run, prepared, log if placement.is_main else (lambda line: None))
            torch.manual_seed(config.train.seed + placement.rank)
            reporting = [MetricsFile(), EpochLog(log), *callbacks]
            trainer = self.trainer(model, prepared.objective(model), config.train, placement, run, reporting)
            if resume:
                trainer.resume()
            if placement.is_main:
                log(f"{config.data.corpus}: {prepared.summary}; {self.describe_model(config, model)}; "
                    f"{placement.device}, {placement.world_size} process(es), {torch.get_num_threads()} thread(s); "
                    f"run {run.path}" + (f" (resuming at epoch {trainer.progress.epoch})" if resume else ""))
            records = trainer.fit()
            if placement.distributed:      # every rank past its last collective before any leaves the group
                dist.barrier()
            return records
        finally:
            teardown()

    # ---- using a trained run -----------------------------------------------------------------
    def open(self, run: RunDir, config: RunConfig, which: str, device: torch.device) -> OpenedRun:
        raise NotImplementedError

    def open_run(self, path, which: str = "best", device: str | torch.device = "cpu", threads: int = 0) -> OpenedRun:
        """A run directory of this task, ready to use (`device` auto: a GPU when there is one; `threads`
        CPU threads for its work, 0: rnnlab times the work and keeps the faster count)."""
        if threads < 0:
            raise RnnlabError("--threads must be 0 (timed) or a number of threads")
        run = RunDir(path)
        config = run.load_config()
        if not self.claims(config):
            raise RnnlabError(f"{run.path}: not a {self.name} run (its config says task {config.data.task}, "
                              f"modality {config.data.modality})")
        opened = self.open(run, config, which, pick_device(str(device)))
        opened.threads = threads
        return opened

    def load(self, path, which: str = "best", device: str | torch.device = "auto", threads: int = 0) -> TrainedModel:
        """A run directory of this task as its Python model class (`rnnlab.load`)."""
        return self.model_class(self, self.open_run(path, which, device, threads), Path(path), which)

    def evaluate(self, args) -> int:
        raise RnnlabError(f"{args.run}: `rnnlab evaluate` does not take a {self.name} run")

    def generate(self, args) -> int:
        verb = next(iter(self.commands), "")
        use = f"; use `rnnlab {verb} {args.run} ...`" if verb else ""
        raise RnnlabError(f"{args.run}: `rnnlab generate` does not take a {self.name} run{use}")

    def served(self, name: str, trained: TrainedRun):
        raise RnnlabError(f"{trained.run.path}: a {self.name} run; `rnnlab serve` steps language-model, MIDI, "
                          "piano-roll and series runs")


def checkpoint_path(run: RunDir, which: str) -> Path:
    """best.pt, or last.pt when asked for it or when no best was kept."""
    return run.best_checkpoint if which == "best" and run.best_checkpoint.exists() else run.last_checkpoint


def shipped_state(model: torch.nn.Module, folder: Path) -> dict:
    """A shipped model's state dict: its saved weights (already the moving average, where the run kept
    one), with the average buffers the model expects filled from them."""
    state = read_weights(folder)
    for name in model.state_dict():
        if name.startswith(AVERAGE_PREFIX) and name not in state:
            state[name] = state[next(p for p, _ in model.named_parameters() if average_name(p) == name)]
    return state


def load_weights(model: torch.nn.Module, run: RunDir, which: str, device) -> torch.nn.Module:
    """The chosen checkpoint's weights into `model`, on `device`, in eval mode."""
    shipped = is_shipped(run.path)              # a shipped model: its one set of weights, read as float32
    checkpoint = run.path / WEIGHTS if shipped else checkpoint_path(run, which)
    try:
        model.load_state_dict(shipped_state(model, run.path) if shipped else load_checkpoint(checkpoint)["model"])
    except RuntimeError as err:
        lines = str(err).splitlines()
        first = lines[1].strip() if len(lines) > 1 else str(err)
        raise RnnlabError(f"{checkpoint}: weights do not match the run's config and vocabulary ({first})") from None
    if isinstance(model, AveragedWeights):      # --average: a trained run is used with the averaged weights
        model.use_average()
    return model.to(device).eval()

"""rnnlab from Python: train a run, load one, see what there is to train on.

The command line is a thin layer over these functions: `rnnlab train` calls `train`, and
`generate`, `translate`, `respond` call the verbs of the model `load` returns, so the same seed
gives the same output from a notebook and from the shell.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError

log = logging.getLogger("rnnlab")


@dataclass
class Run:
    """A trained (or resumed) run directory and the metrics of its epochs.

    >>> run = rnnlab.train("python-stdlib", preset="char-small", max_minutes=1, out="runs/demo")  # doctest: +SKIP
    >>> run.metrics[-1]["valid_loss"]; run.plot(); model = run.load()                             # doctest: +SKIP
    """

    path: Path
    task: str
    metrics: list[dict] = field(default_factory=list)

    def load(self, checkpoint: str = "best", device: str = "auto"):
        """The trained model, as `rnnlab.load(run.path)` gives it."""
        return load(self.path, checkpoint, device)

    def plot(self):
        """The training and validation curves, a matplotlib Figure."""
        from rnnlab.train.metrics import metrics_figure

        return metrics_figure(self.metrics)


def train(corpus: str | Path | None = None, out: str | Path | None = None, *, preset: str | None = None,
          task: str | None = None, config: str | Path | dict | None = None, resume: bool = False,
          progress: bool = True, **settings: Any) -> Run:
    """Train a model on `corpus` (a text file, a folder, or a named corpus such as "tinyshakespeare")
    into the run directory `out`, or with `resume=True` continue the run there.

    `settings` are the options `rnnlab train` takes, by field name: `hidden=128, layers=2,
    max_minutes=2, epochs=5, level="word", ...`; `preset` names a recipe they override, and `config`
    (a JSON or YAML file, or a dict, in config.json's sections) sits between the two. The task
    (text, MIDI, series, pairs, dialogue) is read from `task`, the preset or the data.

    >>> run = rnnlab.train("python-stdlib", "runs/demo", preset="char-small", max_minutes=1)  # doctest: +SKIP
    """
    from rnnlab.tasks import registry

    if out is None:
        raise RnnlabError("train needs a run directory to write: out=...")
    overrides = section_overrides(settings)
    if resume:
        chosen = registry.task_of_run(out)
        records = registry.train(None, out, resume=True, overrides=overrides, log=log.info, progress=progress)
        return Run(Path(out), chosen.name, records)
    run_config = configure(corpus, preset=preset, task=task, config=config, **settings)
    chosen = registry.task_for(run_config)
    records = registry.train(run_config, out, log=log.info, progress=progress)
    return Run(Path(out), chosen.name, records)


def configure(corpus: str | Path | None, *, preset: str | None = None, task: str | None = None,
              config: str | Path | dict | None = None, **settings: Any):
    """The RunConfig `train` would use for these arguments, checked, without training
    (`rnnlab train ... --print-config`).

    >>> rnnlab.configure("python-stdlib", preset="char-small", hidden=64).model.hidden
    64
    """
    if corpus is None or str(corpus) == "":
        raise RnnlabError("train needs a corpus: a text file, a folder, or a name from `rnnlab data list`")
    base = {}
    if config is not None:
        from rnnlab.config import read_config_file
        base = read_config_file(config)
    where = "config" if config is None or isinstance(config, dict) else str(config)
    return training_config(str(corpus), preset, task, section_overrides(settings), base, where)[0]


TASK_OWN = "task's own"     # settings of a task's own section, placed once the run's task is known


def section_overrides(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat settings (`hidden=128`) -> {section: {field: value}}: data, model and train, and under
    TASK_OWN the fields of a task's own section (whose: the run's task, chosen later); names that no
    section has are refused together in one line."""
    from rnnlab.config import CORE_SECTIONS, all_sections

    where = {f.name: section for section, kind in CORE_SECTIONS.items() for f in dataclasses.fields(kind)}
    own = {f.name for section, kind in all_sections().items() if section not in CORE_SECTIONS
           for f in dataclasses.fields(kind)}
    unknown = sorted(name for name in settings if (name not in where and name not in own) or name == "corpus")
    if unknown:
        raise RnnlabError(f"unknown training setting(s): {', '.join(unknown)}; `rnnlab train --task TASK --help` "
                          "lists each task's")
    overrides: dict[str, dict[str, Any]] = {name: {} for name in (*CORE_SECTIONS, TASK_OWN)}
    for name, value in settings.items():
        if value is not None:
            overrides[where.get(name, TASK_OWN)][name] = value
    return overrides


def placed(overrides: dict[str, dict[str, Any]], task) -> dict[str, dict[str, Any]]:
    """The overrides with the TASK_OWN settings that are fields of `task`'s own section moved into
    it; the others stay under TASK_OWN, where no task takes them."""
    own = overrides.get(TASK_OWN, {})
    out = {name: values for name, values in overrides.items() if name != TASK_OWN}
    names = {f.name for f in dataclasses.fields(task.settings)} if task.settings else set()
    if task.settings is not None:
        section = task.settings.section
        out[section] = {**out.get(section, {}), **{k: v for k, v in own.items() if k in names}}
    left = {k: v for k, v in own.items() if k not in names}
    return {**out, TASK_OWN: left} if left else out


def training_config(corpus: str, preset: str | None, task_name: str | None, overrides: dict,
                    base: dict | None = None, where: str = "config"):
    """The RunConfig and Task for a new run: the task's defaults, the corpus's level, the preset, a
    config file's sections (`base`), then the explicit settings; an explicit setting the task does not
    take is refused in one line."""
    from rnnlab.config import CORE_SECTIONS, build_config
    from rnnlab.data import corpora
    from rnnlab.tasks import registry

    base = base or {}
    tokenizer = {**base.get("data", {}), **overrides["data"]}.get("tokenizer")
    known = ("auto", *(name for t in registry.TASKS.values() for name in t.tokenizers))
    if tokenizer is not None and tokenizer not in known:
        raise RnnlabError(f"--tokenizer {tokenizer!r} is not one of: {', '.join(known)}")
    task = registry.choose_task(corpus, task_name, preset, {**base.get("data", {}), **overrides["data"]})
    overrides = placed(overrides, task)
    foreign = [name for section, values in overrides.items() for name in values
               if name not in task.options.get(section, ()) and name not in ("modality", "tokenizer")]
    if foreign:
        raise registry.train_option_refused(task, foreign[0])
    implied: dict = {}
    task.configure(implied)                             # what the task itself sets: its modality, tokenizer
    for key in ("modality", "tokenizer"):
        given = overrides["data"].get(key)
        if given not in (None, "auto") and key not in task.options.get("data", ()) and implied.get(key) != given:
            raise RnnlabError(f"{corpus}: --{key} {given} does not fit this data, which trains a {task.name} run "
                              f"({task.description}); --task chooses another kind of run")
    data = dict(overrides["data"])
    task.configure(data)
    data["corpus"] = corpus
    named = corpora.CORPORA.get(corpus)
    preset = preset or (named.preset if named else "") or task.default_preset
    defaults = {section: dict(values) for section, values in task.defaults.items()}
    if task.settings is not None:                                 # every run of the task keeps its section
        defaults.setdefault(task.settings.section, {})
    if named and named.level in ("char", "word", "ja"):           # a named corpus brings its level
        defaults.setdefault("data", {})["level"] = named.level
    strange = [name for name in base if name not in CORE_SECTIONS and name not in overrides]
    if strange:
        raise RnnlabError(f"{where}: a {task.name} run has no {strange[0]!r} section "
                          f"(its sections: {', '.join([*CORE_SECTIONS, *overrides.keys() - CORE_SECTIONS.keys()])})")
    merged = {section: {**base.get(section, {}), **values} for section, values in overrides.items()}
    config = build_config(preset, {**merged, "data": {**base.get("data", {}), **data}}, defaults)
    return config, task


def load(run: str | Path, checkpoint: str = "best", device: str = "auto", threads: int = 0):
    """A trained run directory as its task's model: a TextModel (generate, stream, perplexity), a
    MusicModel (compose), a SeriesModel (forecast), a Translator (translate), a ChatModel (respond)
    or a WordVectorModel (similar, analogy). `checkpoint`: best or last; `device`: auto (a GPU when
    there is one), cpu or cuda; `threads`: CPU threads (0: rnnlab times the work and keeps the faster).

    >>> model = rnnlab.load("runs/demo")                         # doctest: +SKIP
    >>> print(model.generate("def ", length=200, seed=1))         # doctest: +SKIP
    """
    from rnnlab.tasks import registry

    if checkpoint not in ("best", "last"):
        raise RnnlabError(f"checkpoint must be best or last, not {checkpoint!r}")
    return registry.task_of_run(run).load(run, checkpoint, device, threads)


def corpora() -> dict[str, str]:
    """The named corpora `train` takes, name -> description (`rnnlab data list`)."""
    from rnnlab.data import corpora as named

    listed = {name: corpus.description for name, corpus in named.CORPORA.items()}
    listed.update(named.EMBEDDED)
    return listed


def presets() -> dict[str, dict]:
    """The named recipes `train(preset=...)` takes, name -> the settings it sets by config section."""
    from rnnlab.presets import PRESETS

    return {name: {section: dict(values) for section, values in recipe.items()} for name, recipe in PRESETS.items()}


def models() -> dict[str, dict]:
    """The shipped models, name -> card (what each does, its data and licence, the command that trained
    it, its test metrics); each loads as `rnnlab.load("@name")`. They come with `pip install rnnlab-models`.

    >>> rnnlab.models()["shakespeare"]["headline"]                  # doctest: +SKIP
    """
    from rnnlab import gallery

    return gallery.cards()


def tasks() -> dict[str, str]:
    """Every kind of run rnnlab trains, name -> what it learns."""
    from rnnlab.tasks import registry

    return {name: task.description for name, task in registry.TASKS.items()}

"""Configuration as dataclasses: built from a preset plus CLI flags, saved in the run directory.

Three sections every run has (data, model, train) live here; a task's own settings live beside
the task (`rnnlab.tasks.catalog` says where) and are saved as a section of their own. Every field
carries its help text in `metadata["help"]`; the CLI turns fields into flags, so a new option is
one line in its section. Presets are partial overrides, applied before explicit flags.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.options import TaskSettings, option
from rnnlab.presets import PRESETS
from rnnlab.tasks.catalog import task_settings


CELLS = ("rnn", "rnn-relu", "lstm", "lstm-peephole", "gru")
LEVELS = ("char", "word", "ja")


@dataclass
class DataConfig:
    """What to read and how to turn it into tokens."""

    corpus: str = option("", "text file, folder of text files, or named corpus")
    level: str = option("char", "token level", LEVELS)
    modality: str = option("text", "kind of data, as the tasks name it: text, series, midi, ...")  # with task: which Task reads it
    min_freq: int = option(1, "word/ja level: rarer tokens become <unk>", minimum=0)
    max_vocab: int = option(0, "word/ja level: keep at most this many types (0: all)", minimum=0)
    split: str = option("0.9,0.05,0.05", "train,valid,test fractions for a single file (contiguous)")
    encoding: str = option("auto", "text encoding; auto tries UTF-8, then Shift_JIS for Aozora files")
    lowercase: bool = option(False, "lowercase the text before tokenising")
    task: str = option("lm", "what is learnt, as the tasks name it: lm (the next step of a stream), seq2seq "
                       "(source -> target pairs), dialogue (context -> response), word2vec, ...")
    tokenizer: str = option("auto", "how a task with more than one way reads its data into steps (MIDI: "
                            "smf-events, performance, remi or tsd events, or pianoroll; auto: the task's own)")

@dataclass
class ModelConfig:
    """The network: embedding -> stacked recurrent layers -> softmax head."""

    cell: str = option("lstm", "recurrent cell (lstm-peephole: the LSTM whose gates also see the cell state, "
                       "Gers & Schmidhuber; not for seq2seq or dialogue)", CELLS)
    layers: int = option(2, "number of stacked recurrent layers", minimum=1)
    hidden: int = option(256, "units per recurrent layer", minimum=1)
    embed: int = option(0, "embedding size (0: same as --hidden)", minimum=0)
    dropout: float = option(0.0, "dropout between layers and before the output layer")
    dropout_embed: float = option(0.0, "dropout on the embedding output (AWD: dropouti)")
    dropout_words: float = option(0.0, "drop whole word types from the embedding (AWD: dropoute)")
    weight_drop: float = option(0.0, "DropConnect on the hidden-to-hidden weights (AWD: wdrop)")
    variational: bool = option(False, "one dropout mask per sequence, shared across time (locked)")
    tie_weights: bool = option(False, "share embedding and output weights (projects if embed != hidden)")
    init: str = option("default", "weight init", ("default", "uniform", "xavier", "orthogonal"))
    init_range: float = option(0.1, "half-width of the uniform init", minimum=0)
    init_embeddings: str = option("", "start the embeddings from a word2vec run directory (rnnlab word2vec)")
    dropout_site: str = option(
        "between", "where layer-input dropout acts: between layers, or on the input projection W_x x "
        "of every layer as the seed's Chainer net did", ("between", "projected"))

    @property
    def embed_size(self) -> int:
        return self.embed or self.hidden


@dataclass
class TrainConfig:
    """The truncated-BPTT loop, optimiser and schedule."""

    epochs: int = option(10, "passes over the training data", minimum=1)
    batch_size: int = option(32, "parallel streams (per process)", minimum=1)
    bptt: int = option(64, "truncated BPTT length in tokens", minimum=1)
    variable_bptt: bool = option(False, "AWD-style random BPTT length around --bptt")
    optimizer: str = option("adam", "optimiser", ("sgd", "adam", "adamw"))
    lr: float = option(2e-3, "learning rate")
    momentum: float = option(0.0, "SGD momentum", minimum=0)
    weight_decay: float = option(0.0, "L2 / decoupled weight decay", minimum=0)
    schedule: str = option("plateau", "learning-rate schedule", ("none", "step", "plateau"))
    lr_decay: float = option(0.5, "factor applied by the schedule", minimum=0)
    decay_start: int = option(1, "step schedule: first epoch after which lr decays every epoch", minimum=0)
    patience: int = option(0, "plateau schedule: epochs without improvement before decaying", minimum=0)
    clip: float = option(5.0, "gradient-norm clipping (0: off)", minimum=0)
    early_stop: int = option(0, "stop after this many epochs without validation gain (0: off)", minimum=0)
    max_minutes: float = option(0.0, "training time budget in minutes (0: none)", minimum=0)
    seed: int = option(1234, "random seed")
    eval_batch_size: int = option(10, "streams used for validation", minimum=1)
    checkpoint_every: int = option(200, "also save the last checkpoint every N steps (0: epochs only)", minimum=0)
    activation_reg: float = option(0.0, "AR: L2 penalty on the last layer's outputs (AWD alpha)", minimum=0)
    temporal_reg: float = option(0.0, "TAR: L2 penalty on output differences over time (AWD beta)", minimum=0)
    threads: int = option(0, "CPU threads (0: rnnlab times the work and keeps the faster of one thread and every core)", minimum=0)
    device: str = option("auto", "auto, cpu, cuda or cuda:N")
    fused_loss: bool = option(True, "chunked fused softmax + cross-entropy (same result, faster)")
    bf16: bool = option(False, "the same as --precision bf16 (kept for older runs and scripts)")
    precision: str = option("fp32", "training precision: fp32; bf16 or fp16 autocast (products in 16 bits; weights, "
                            "softmax and loss in fp32; fp16 with a gradient scaler, for GPUs without bf16 such as "
                            "the T4); auto: bf16 where the GPU has it, fp16 on older GPUs, fp32 on a CPU",
                            ("fp32", "bf16", "fp16", "auto"))
    compile: bool = option(False, "torch.compile the model for training (a one-line note and uncompiled training "
                           "where it cannot compile)")
    tensorboard: bool = option(False, "also write the losses and metrics for TensorBoard (RUN/tensorboard)")
    engine: str = option("torch", "torch, or numpy: the from-scratch NumPy engine (rnnlab.scratch; "
                         "text runs, CPU); its run directory loads in either engine", ("torch", "numpy"))
    average: float = option(0.0, "piano rolls and pair models: keep an exponential moving average of the "
                            "weights, decay min(this, (1 + step) / (10 + step)) per step (e.g. 0.999); "
                            "validation, the best checkpoint's choice and every later use of the run (evaluate, "
                            "generate, translate, serve) take the averaged weights (0: off)")

    @property
    def requested_precision(self) -> str:
        """--precision, or bf16 for a run that asked with --bf16."""
        return "bf16" if self.bf16 else self.precision


@dataclass
class RunConfig:
    """Everything that defines a run; saved as config.json in the run directory.

    `sections` holds the run's task's own settings by section name (a seq2seq run's "seq2seq", a
    series run's "series"); a task reads its own with `SettingsClass.of(config)`.
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = ""
    sections: dict[str, TaskSettings] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """config.json's content: data, model, train, preset, then each task section under its name."""
        out = {name: dataclasses.asdict(getattr(self, name)) for name in CORE_SECTIONS}
        out["preset"] = self.preset
        out.update({name: dataclasses.asdict(values) for name, values in self.sections.items()})
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> "RunConfig":
        """From config.json's content; a section or value of the wrong kind raises ValueError. A run
        written before its task had a section of its own gets it from the fields it kept in data and
        model; fields and sections rnnlab does not know are left out."""
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")

        def build(kind, values):
            if values is not None and not isinstance(values, dict):
                raise ValueError(f"its {kind.__name__} section is not a JSON object")
            known = {f.name for f in dataclasses.fields(kind)}
            return kind(**{k: v for k, v in (values or {}).items() if k in known})

        seq2seq = raw.get("seq2seq")
        moved = {k: seq2seq[k] for k in ("bf16", "average") if k in seq2seq} if isinstance(seq2seq, dict) else {}
        if moved:          # runs from before these were training options keep theirs (train's said nothing)
            train = raw.get("train") if isinstance(raw.get("train"), dict) else {}
            raw = {**raw, "train": {**train, **moved}}

        sections = {}
        for name, kind in task_settings().items():
            values = raw.get(name)
            if values is None:
                values = kind.from_older(raw)
            if values is not None:
                sections[name] = build(kind, values)
        return cls(**{name: build(kind, raw.get(name)) for name, kind in CORE_SECTIONS.items()},
                   preset=str(raw.get("preset", "")), sections=sections)


CORE_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def all_sections() -> dict[str, type]:
    """Every section a config may hold: the three every run has, then each task's own."""
    return {**CORE_SECTIONS, **task_settings()}


def apply_overrides(config: RunConfig, overrides: dict[str, dict[str, Any]]) -> RunConfig:
    """Return a copy of config with {section: {field: value}} applied; a task section that is given
    values (even none: `{"series": {}}`) comes into being."""
    kinds = all_sections()
    core, sections = {}, dict(config.sections)
    for name, values in overrides.items():
        if name in CORE_SECTIONS:
            if values:
                core[name] = dataclasses.replace(getattr(config, name), **values)
        elif name in kinds:
            if values or name not in sections:
                sections[name] = dataclasses.replace(sections.get(name) or kinds[name](), **values)
        else:
            raise RnnlabError(f"{name!r} is not a section of rnnlab's config ({', '.join(kinds)})")
    return dataclasses.replace(config, **core, sections=sections)


def build_config(preset: str, overrides: dict[str, dict[str, Any]], defaults: dict | None = None) -> RunConfig:
    """Defaults (the task's and the named corpus's), then the preset, then explicit flags; validated
    once, all problems together. A task section appears when the defaults, preset or flags name it."""
    config = apply_overrides(RunConfig(preset=preset), defaults or {})
    if preset:
        if preset not in PRESETS:
            raise RnnlabError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        config = apply_overrides(config, PRESETS[preset])
    config = apply_overrides(config, {name: values for name, values in overrides.items()
                                      if values or name in CORE_SECTIONS})
    validate(config)
    return config


def parse_split(text: str) -> tuple[float, float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) != 3 or any(p < 0 for p in parts) or parts[0] <= 0 or abs(sum(parts) - 1) > 1e-6:
        raise ValueError(text)
    return parts[0], parts[1], parts[2]


# What `train --resume` may change: the budget and where it runs, never what is learnt.
RESUMABLE = ("epochs", "max_minutes", "early_stop", "checkpoint_every", "threads", "device", "tensorboard")


def with_resumable(config: RunConfig, overrides: dict | None) -> RunConfig:
    """A saved config with only the RESUMABLE training fields changed by explicit flags; checked."""
    changes = {k: v for k, v in (overrides or {}).get("train", {}).items() if k in RESUMABLE}
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))
    validate(config)
    return config




def type_problems(section) -> list[str]:
    """Fields whose value is not of the field's type (a hand-edited config.json), and NaN / infinity."""
    problems = []
    for f in dataclasses.fields(section):
        value, default = getattr(section, f.name), f.default
        flag = f"--{f.name.replace('_', '-')}"
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and not math.isfinite(value):
                problems.append(f"{flag} must be a finite number, not {value}")
        else:
            ok = isinstance(value, str)
        if not ok:
            problems.append(f"{flag} must be {type(default).__name__}, not {value!r}")
    return problems


def range_problems(f: dataclasses.Field, value) -> list[str]:
    """A number below its field's `minimum` or above its `maximum`, in one line."""
    lowest, highest = f.metadata.get("minimum"), f.metadata.get("maximum")
    flag = f"--{f.name.replace('_', '-')}"
    if (lowest is not None and value < lowest) or (highest is not None and value > highest):
        if lowest is not None and highest is not None:
            return [f"{flag} must be between {lowest} and {highest}"]
        if highest is not None:
            return [f"{flag} must be at most {highest}"]
        return [f"{flag} must be at least {lowest}" if lowest else f"{flag} must not be negative"]
    return []


def validate(config: RunConfig) -> None:
    """Collect every problem in the config and raise them together, one per line."""
    problems = []
    sections = [config.data, config.model, config.train, *config.sections.values()]
    for section in sections:
        problems += type_problems(section)
    if problems:
        raise RnnlabError("; ".join(problems) if len(problems) == 1 else "\n".join(problems))
    for section in sections:
        for f in dataclasses.fields(section):
            choices = f.metadata.get("choices")
            value = getattr(section, f.name)
            if choices and value not in choices:
                problems.append(f"--{f.name.replace('_', '-')} {value!r} is not one of: {', '.join(choices)}")
            problems += range_problems(f, value)
    m, t = config.model, config.train
    for name in ("dropout", "dropout_embed", "dropout_words", "weight_drop"):
        if not 0 <= getattr(m, name) < 1:
            problems.append(f"--{name.replace('_', '-')} must be in [0, 1)")
    if t.lr <= 0:
        problems.append("--lr must be positive")
    if not 0 <= t.average < 1:
        problems.append("--average must be in [0, 1) (the moving average's decay per step; 0: off)")
    if t.bf16 and t.precision not in ("fp32", "bf16"):
        problems.append(f"--bf16 is --precision bf16; it cannot go with --precision {t.precision}")
    if t.engine == "numpy" and (t.requested_precision in ("bf16", "fp16") or t.compile):
        problems.append(f"--{'compile' if t.compile else 'precision ' + t.requested_precision} is for the torch "
                        "engine; the NumPy engine computes in fp32 and fp64")
    try:
        parse_split(config.data.split)
    except ValueError:
        problems.append(f"--split {config.data.split!r} must be three fractions summing to 1, e.g. 0.9,0.05,0.05")
    if problems:
        raise RnnlabError("; ".join(problems) if len(problems) == 1 else "\n".join(problems))


def read_config_file(source) -> dict[str, dict[str, Any]]:
    """Settings by section from a JSON or YAML file (or a dict) laid out as config.json; a section or
    field rnnlab does not know is refused in one line naming the file."""
    import json
    from pathlib import Path

    where = str(source) if not isinstance(source, dict) else "config"
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise RnnlabError(f"{path}: cannot read the config file ({getattr(err, 'strerror', None) or err})") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml
                raw = yaml.safe_load(text)
            else:
                raw = json.loads(text)
        except ImportError:
            raise RnnlabError(f"{path}: reading YAML needs PyYAML (pip install pyyaml), or write it as JSON") from None
        except ValueError as err:                         # json.JSONDecodeError and yaml.YAMLError's kin
            raise RnnlabError(f"{path}: not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'} "
                              f"({str(err).splitlines()[0]})") from None
        except Exception as err:                          # yaml.YAMLError is not a ValueError
            raise RnnlabError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise RnnlabError(f"{where}: must hold sections (data, model, train, ...) as in config.json")
    kinds = all_sections()
    out: dict[str, dict[str, Any]] = {}
    for section, values in raw.items():
        if section == "preset" or values is None:
            continue
        if section not in kinds or not isinstance(values, dict):
            raise RnnlabError(f"{where}: {section!r} is not a section of rnnlab's config ({', '.join(kinds)})")
        known = {f.name for f in dataclasses.fields(kinds[section])}
        unknown = [name for name in values if name not in known]
        if unknown:
            raise RnnlabError(f"{where}: unknown field(s) in {section}: {', '.join(unknown)}")
        out[section] = {name: value for name, value in values.items() if name != "corpus"}
    return out

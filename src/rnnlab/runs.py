"""The run directory: the unit users hand to every command.

    RUN/config.json        the RunConfig
    RUN/vocab.json         vocabulary + tokeniser settings
    RUN/metrics.jsonl      one JSON object per epoch
    RUN/metrics.png        loss / perplexity curves
    RUN/checkpoints/       last.pt and best.pt (state dicts, written atomically)
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.config import CELLS, RunConfig, validate
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.json")
    vocab_path = property(lambda self: self.path / "vocab.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    plot_path = property(lambda self: self.path / "metrics.png")
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.checkpoints / "last.pt")
    best_checkpoint = property(lambda self: self.checkpoints / "best.pt")

    def holds_run(self) -> bool:
        return self.config_path.exists()

    def never_saved(self) -> bool:
        """A run that failed before its first checkpoint and metrics: nothing in it is worth keeping."""
        if not self.holds_run() or self.metrics_path.exists():
            return False
        return not (self.checkpoints.is_dir() and any(self.checkpoints.glob("*.pt")))

    def check_resumable(self) -> None:
        """A run to resume is here and saved a checkpoint to resume from."""
        if not self.holds_run():
            raise RnnlabError(f"{self.path}: no run to resume here (no config.json)")
        if not self.last_checkpoint.exists():
            raise RnnlabError(f"{self.last_checkpoint}: missing; the run saved no checkpoint to resume from "
                              "(start it again without --resume: a run that saved nothing is replaced)")

    def create(self, config: RunConfig) -> None:
        """Start a new run here; refuse to overwrite another run's files or anybody else's. A run
        that stopped before saving anything (bad data found after the folder was made) is started
        afresh rather than left in the way."""
        if self.path.exists() and not self.path.is_dir():
            raise RnnlabError(f"{self.path}: exists and is not a folder; choose another --out")
        if self.holds_run() and not self.never_saved():
            raise RnnlabError(f"{self.path}: already holds a run; pass --resume to continue it "
                              "or choose another --out")
        if not self.holds_run() and self.path.is_dir():
            others = sorted(p.name for p in self.path.iterdir() if not p.name.startswith("."))
            if others:
                shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
                raise RnnlabError(f"{self.path}: holds other files ({shown}) and is not a run; "
                                  "choose a new or empty folder for --out")
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        write_atomic(self.config_path, json.dumps(config.to_dict(), indent=2, ensure_ascii=False))

    def load_config(self) -> RunConfig:
        if not self.path.is_dir():
            raise RnnlabError(f"{self.path}: no such run directory")
        try:
            raw = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RnnlabError(f"{self.path}: not a run directory (no config.json); train one with `rnnlab train`") from None
        except ValueError:
            raise RnnlabError(f"{self.config_path}: corrupt (not JSON)") from None
        try:
            config = RunConfig.from_dict(raw)
        except (ValueError, TypeError) as err:
            raise RnnlabError(f"{self.config_path}: not an rnnlab config ({err})") from None
        if config.model.cell not in CELLS:
            raise RnnlabError(f"{self.config_path}: unknown cell type {config.model.cell!r}; rnnlab has: "
                              f"{', '.join(CELLS)}")
        try:
            validate(config)
        except RnnlabError as err:
            raise RnnlabError(f"{self.config_path}: {str(err).replace(chr(10), '; ')}") from None
        return config

    def read_metrics(self) -> list[dict]:
        if not self.metrics_path.exists():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def append_metrics(self, record: dict) -> None:
        with self.metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def truncate_metrics(self, keep: int) -> None:
        """Drop records written after the checkpoint a resumed run starts from."""
        records = self.read_metrics()[:keep]
        write_atomic(self.metrics_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))

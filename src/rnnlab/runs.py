"""The run directory: the unit users hand to every command.

    RUN/config.json        the RunConfig
    RUN/vocab.json         vocabulary + tokeniser settings
    RUN/metrics.jsonl      one JSON object per epoch
    RUN/metrics.png        loss / perplexity curves
    RUN/checkpoints/       last.pt and best.pt (state dicts, written atomically)
    RUN/.rnnlab-run        the mark of a folder rnnlab made: only such a folder is written into
    RUN/.rnnlab-lock       locked by the one process training the run (rnnlab.locks)

Runs made before the mark are recognised by their files: a config.json that reads as rnnlab's,
checkpoints/ or metrics.jsonl, and nothing else but files rnnlab writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.config import CELLS, RunConfig, validate
from rnnlab.errors import RnnlabError
from rnnlab.files import disk_full, disk_full_error, write_atomic
from rnnlab.gallery import is_shipped, resolve

MARKER = ".rnnlab-run"
# What a run folder of any task holds, for recognising runs made before the mark.
RUN_FILES = {"config.json", "vocab.json", "metrics.jsonl", "metrics.png", "checkpoints", "tensorboard", "export",
             "series.json", "music_stats.json", "miditok.json", "spm.source.model", "spm.target.model"}


def shown(names: list[str]) -> str:
    return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")


class RunDir:
    def __init__(self, path: str | Path):
        self.path = resolve(path)             # a folder, or `@name` for a shipped model (rnnlab.gallery)

    config_path = property(lambda self: self.path / "config.json")
    vocab_path = property(lambda self: self.path / "vocab.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    plot_path = property(lambda self: self.path / "metrics.png")
    checkpoints = property(lambda self: self.path / "checkpoints")
    last_checkpoint = property(lambda self: self.checkpoints / "last.pt")
    best_checkpoint = property(lambda self: self.checkpoints / "best.pt")

    def holds_run(self) -> bool:
        return self.config_path.exists()

    def entries(self) -> list[str]:
        """The folder's visible files and folders, sorted."""
        return sorted(p.name for p in self.path.iterdir() if not p.name.startswith(".")) if self.path.is_dir() else []

    def is_marked(self) -> bool:
        return (self.path / MARKER).is_file()

    def unrecognised(self) -> str:
        """Why an unmarked folder is not a run an older rnnlab made ("" when it is one)."""
        foreign = [name for name in self.entries() if name not in RUN_FILES]
        if foreign:
            return f"holds other files ({shown(foreign)})"
        try:
            raw = json.loads(self.config_path.read_text(encoding="utf-8"))
            RunConfig.from_dict(raw)
            sections_ok = all(isinstance(raw.get(name), dict) for name in ("data", "model", "train"))
        except (OSError, ValueError, TypeError):
            sections_ok = False
        if not sections_ok:
            return "has a config.json that is not an rnnlab config"
        if not (self.checkpoints.is_dir() or self.metrics_path.exists()):
            return "has no checkpoints/ or metrics.jsonl"
        return ""

    def is_ours(self) -> bool:
        """A folder rnnlab made: marked, or a run from before the mark."""
        return self.is_marked() or (self.holds_run() and not self.unrecognised())

    def refuse_if_foreign(self, resume: bool = False) -> None:
        """Refuse, in one line and before anything is written, a folder that is not an rnnlab run
        and is not empty (a new run) or holds no run (resume)."""
        self.refuse_if_shipped()
        if self.path.exists() and not self.path.is_dir():
            raise RnnlabError(f"{self.path}: exists and is not a folder; choose another --out")
        if resume and not self.holds_run():
            raise RnnlabError(f"{self.path}: no run to resume here (no config.json)")
        if self.is_ours() or not self.entries():
            return
        if not self.holds_run():
            raise RnnlabError(f"{self.path}: holds other files ({shown(self.entries())}) and is not a run; "
                              "choose a new or empty folder for --out")
        raise RnnlabError(f"{self.path}: {self.unrecognised()}, so it is not a run rnnlab made and is left alone (an rnnlab run "
                          f"from an older version? move the other files out, or create an empty {MARKER} in it)")

    def refuse_if_shipped(self) -> None:
        if is_shipped(self.path):
            raise RnnlabError(f"{self.path}: a shipped model, which is read-only; train into a folder of your own "
                              "(`rnnlab models rebuild NAME --out FOLDER` trains one again from its card)")

    def check_ours(self) -> None:
        """Refuse a folder that is not an rnnlab run; mark a run from before the mark."""
        self.refuse_if_foreign(resume=True)
        if not self.is_marked():
            self.mark()

    def mark(self) -> None:
        write_atomic(self.path / MARKER, json.dumps({"format": "rnnlab-run-1"}) + "\n")

    def never_saved(self) -> bool:
        """A run that failed before its first checkpoint and metrics: nothing in it is worth keeping."""
        if self.metrics_path.exists():
            return False
        return not (self.checkpoints.is_dir() and any(self.checkpoints.glob("*.pt")))

    def check_resumable(self) -> None:
        """A run to resume is here, is rnnlab's, and saved a checkpoint to resume from."""
        self.check_ours()
        if not self.last_checkpoint.exists():
            raise RnnlabError(f"{self.last_checkpoint}: missing; the run saved no checkpoint to resume from "
                              "(start it again without --resume: a run that saved nothing is replaced)")

    def check_new(self) -> None:
        """A new run may start here: a new or empty folder, or a run of ours that saved nothing (bad
        data found after the folder was made), started afresh rather than left in the way. Another
        run's files or anybody else's are refused."""
        self.refuse_if_shipped()
        if self.path.exists() and not self.path.is_dir():
            raise RnnlabError(f"{self.path}: exists and is not a folder; choose another --out")
        if self.is_ours():
            if not self.never_saved():
                raise RnnlabError(f"{self.path}: already holds a run; pass --resume to continue it "
                                  "or choose another --out")
        elif self.entries():
            raise RnnlabError(f"{self.path}: holds other files ({shown(self.entries())}) and is not a run; "
                              "choose a new or empty folder for --out")

    def create(self, config: RunConfig) -> None:
        """Start a new run here, marked as rnnlab's (see check_new for where one may start)."""
        self.check_new()
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.mark()
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
        """The records in metrics.jsonl; a last line cut short (the process killed while appending)
        is dropped, a bad line before it is an error naming it."""
        if not self.metrics_path.exists():
            return []
        lines = self.metrics_path.read_text(encoding="utf-8", errors="replace").splitlines()
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                if number == len(lines):
                    break
                raise RnnlabError(f"{self.metrics_path}: line {number} is not a JSON record (the file is corrupt; "
                                  "delete that line to go on)") from None
        return records

    def append_metrics(self, record: dict) -> None:
        try:
            with self.metrics_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as err:
            if disk_full(err):
                raise disk_full_error(err, self.metrics_path) from None
            raise

    def truncate_metrics(self, keep: int) -> None:
        """Drop records written after the checkpoint a resumed run starts from."""
        records = self.read_metrics()[:keep]
        write_atomic(self.metrics_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))

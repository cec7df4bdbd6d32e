"""Multi-dimensional series: CSV / NPY files, a folder of them, or a bundled data set (statsmodels:NAME).

Every sequence becomes rows of a (length, features) stream that the trainer batches like text.
Values are normalised with the training split's mean and spread, saved as `series.json` in the
run. Stroke data (dx, dy, pen) becomes sketch-rnn's stroke-5 rows: dx, dy and a one-hot pen state
(down, up, end), each drawing closed by an `end` row; offsets are scaled, never shifted.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.config import DataConfig, parse_split
from rnnlab.tasks.series.config import SeriesConfig
from rnnlab.errors import RnnlabError
from rnnlab.tasks.stream import StreamData

PEN_STATES = ("down", "up", "end")
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".npy"}
MISSING = {"", "na", "nan", "null", "none", "-"}
STATSMODELS_PREFIX = "statsmodels:"
DATASETS = Path(__file__).with_name("datasets")       # the statsmodels series, bundled as CSV


@dataclass
class SeriesSpec:
    """What a run needs to read and write values: columns, normalisation, pen, season."""

    columns: list[str]                   # value columns, in row order (the pen column excluded)
    mean: list[float]
    std: list[float]
    pen: bool = False                    # rows end with a one-hot pen state (down, up, end)
    season: int = 0                      # seasonal-naive period (0: none found)
    source: str = ""
    format: str = "rnnlab-series-1"
    pen_column: str = "pen"              # strokes: the name of the pen column, as the data had it

    @property
    def features(self) -> int:
        """Width of one stream row."""
        return len(self.columns) + (len(PEN_STATES) if self.pen else 0)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.mean)) / np.asarray(self.std)

    def denormalise(self, values: np.ndarray) -> np.ndarray:
        return values * np.asarray(self.std) + np.asarray(self.mean)

    def rows(self, values: np.ndarray, pen: np.ndarray | None = None) -> np.ndarray:
        """Raw values (T, columns) and pen flags (T,) -> normalised stream rows (T[+1], features)."""
        normal = self.normalise(values)
        if not self.pen:
            return normal.astype(np.float32)
        states = np.zeros((len(values), len(PEN_STATES)))
        lifted = (pen > 0.5) if pen is not None else np.zeros(len(values), bool)
        states[np.arange(len(values)), lifted.astype(int)] = 1.0
        end = np.zeros((1, self.features))
        end[0, -1] = 1.0                                     # a drawing ends with (0, 0, end)
        return np.concatenate([np.concatenate([normal, states], axis=1), end]).astype(np.float32)

    def decode(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Stream rows (T, features) -> raw values (T, columns) and pen states (T,) as indices into PEN_STATES."""
        values = self.denormalise(rows[:, :len(self.columns)])
        return values, (rows[:, len(self.columns):].argmax(1) if self.pen else None)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "SeriesSpec":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            older = raw.pop("extra", None)                   # runs written before pen_column was a field
            if isinstance(older, dict) and "pen_column" in older:
                raw.setdefault("pen_column", older["pen_column"])
            return cls(**raw)
        except FileNotFoundError:
            raise RnnlabError(f"{path}: missing; this series run has no normalisation statistics") from None
        except (ValueError, TypeError):
            raise RnnlabError(f"{path}: not a valid rnnlab series file") from None


@dataclass
class Sequence:
    name: str
    columns: list[str]
    values: np.ndarray                   # (T, columns) raw values
    pen: np.ndarray | None = None        # (T,) 1 where the pen lifts after the point


# ---- reading -------------------------------------------------------------------------------
def _number(cell: str) -> float:
    text = cell.strip()
    return math.nan if text.lower() in MISSING else float(text)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and cell rows; a first row of numbers means the file has no header (columns 0, 1, …)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise RnnlabError(f"{path}: cannot read as UTF-8 text ({err})") from None
    delimiter = "\t" if path.suffix.lower() == ".tsv" or ("\t" in text.split("\n", 1)[0]) else ","
    rows = [row for row in csv.reader(text.splitlines(), delimiter=delimiter) if any(c.strip() for c in row)]
    if not rows:
        raise RnnlabError(f"{path}: is empty (no rows)")
    try:
        [_number(c) for c in rows[0]]
        header = [str(i) for i in range(len(rows[0]))]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    return header, rows


def read_table(path: Path) -> tuple[list[str], dict[str, np.ndarray], dict[str, str]]:
    """Columns of one CSV / NPY file: (names, numeric columns, why each other column is not numeric)."""
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise RnnlabError(f"{path}: not a readable .npy array ({str(err)[:80]})") from None
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
            raise RnnlabError(f"{path}: needs a numeric array of shape (steps, features), got {array.shape} {array.dtype}")
        names = [str(i) for i in range(array.shape[1])]
        return names, {n: array[:, i].astype(np.float64) for i, n in enumerate(names)}, {}
    header, rows = read_csv(path)
    long = next((i for i, row in enumerate(rows) if len(row) > len(header)), None)
    if long is not None:
        raise RnnlabError(f"{path}: line {long + 2} has {len(rows[long])} cells, the header {len(header)}")
    numeric, text = {}, {}
    for index, name in enumerate(header):
        cells = [row[index] if index < len(row) else "" for row in rows]
        try:
            numeric[name] = np.array([_number(c) for c in cells], dtype=np.float64)
        except ValueError:
            line = next(i for i, c in enumerate(cells) if not _is_number(c)) + 2
            text[name] = f"line {line} holds {cells[line - 2][:20]!r}"
    return header, numeric, text


def _is_number(cell: str) -> bool:
    try:
        _number(cell)
        return True
    except ValueError:
        return False


def statsmodels_table(name: str) -> tuple[list[str], dict[str, np.ndarray], dict[str, str]]:
    """A public-domain data set as statsmodels ships it (sunspots, co2, elnino, macrodata, nile), read
    from the CSV bundled with rnnlab (datasets/SOURCES.md says where each comes from); no network."""
    path = DATASETS / f"{name}.csv"
    if not name or "/" in name or "\\" in name or not path.is_file():
        raise RnnlabError(f"{STATSMODELS_PREFIX}{name}: not a bundled data set; try one of: "
                          f"{', '.join(statsmodels_names())}")
    return read_table(path)


def statsmodels_names() -> list[str]:
    return sorted(path.stem for path in DATASETS.glob("*.csv"))


def choose_columns(where: str, names: list[str], numeric: dict, text: dict, wanted: list[str],
                   pen_column: str) -> list[str]:
    """The value columns to learn, in order; every problem named in one message."""
    problems = [f"no column {c!r} (columns: {', '.join(names)})" for c in wanted + ([pen_column] if pen_column else [])
                if c not in names]
    problems += [f"column {c!r} is not numeric ({text[c]})" for c in wanted + [pen_column] if c in text]
    if problems:
        raise RnnlabError(f"{where}: " + "; ".join(problems))
    columns = wanted or [n for n in names if n in numeric and n != pen_column]
    if not columns:
        raise RnnlabError(f"{where}: no numeric columns to learn")
    left_out = [n for n in names if n in text and n not in wanted and n != pen_column]
    if left_out and not wanted:         # a text column (dates, labels) is fine to leave out; say so
        logging.getLogger("rnnlab").warning(f"note: {where}: left out column(s) that are not numbers: " + "; ".join(
            f"{n!r} ({text[n]})" for n in left_out[:5]) + "; --columns chooses")
    return columns


def fill_missing(where: str, name: str, values: np.ndarray, policy: str) -> np.ndarray:
    infinite = np.isinf(values)
    if infinite.any():
        raise RnnlabError(f"{where}: column {name!r} holds an infinite value (row {int(np.argmax(infinite)) + 1}); "
                          "values must be finite numbers")
    holes = np.isnan(values)
    if not holes.any():
        return values
    if policy != "interpolate":
        raise RnnlabError(f"{where}: column {name!r} has {int(holes.sum())} empty cells (first at row "
                          f"{int(np.argmax(holes)) + 1}); fill them or pass --missing interpolate")
    if holes.all():
        raise RnnlabError(f"{where}: column {name!r} is entirely empty")
    index = np.arange(len(values))
    return np.interp(index, index[~holes], values[~holes])


def read_sequence(source: str, config: SeriesConfig, table=None) -> Sequence:
    """One sequence from a file (or a statsmodels name), with the configured columns."""
    names, numeric, text = table or (statsmodels_table(source[len(STATSMODELS_PREFIX):])
                                     if source.startswith(STATSMODELS_PREFIX) else read_table(Path(source)))
    wanted = [c.strip() for c in config.columns.split(",") if c.strip()]
    columns = choose_columns(source, names, numeric, text, wanted, config.pen_column)
    values = np.stack([fill_missing(source, c, numeric[c], config.missing) for c in columns], axis=1)
    pen = fill_missing(source, config.pen_column, numeric[config.pen_column], "error") if config.pen_column else None
    if len(values) < 2:
        raise RnnlabError(f"{source}: has {len(values)} rows; a series needs at least 2")
    name = source if source.startswith(STATSMODELS_PREFIX) else Path(source).name
    return Sequence(name, columns, values, pen)


def read_sequences(data: DataConfig, config: SeriesConfig | None = None) -> list[Sequence]:
    """A statsmodels name, a file, or a folder of CSV / NPY files (one sequence each, sorted by name)."""
    source, config = data.corpus, config or SeriesConfig()
    if source.startswith(STATSMODELS_PREFIX):
        return [read_sequence(source, config)]
    path = Path(source)
    if not path.exists():
        raise RnnlabError(f"{path}: no such file or folder (a series is a .csv/.npy file, a folder of them, "
                          f"or {STATSMODELS_PREFIX}NAME)")
    if path.is_file():
        return [read_sequence(str(path), config)]
    files = [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(path).parts)]
    if not files:
        raise RnnlabError(f"{path}: holds no .csv, .tsv or .npy files")
    return [read_sequence(str(p), config) for p in files]


# ---- splits and statistics ----------------------------------------------------------------
def split_sequences(sequences: list[Sequence], split: str) -> dict[str, list[Sequence]]:
    """One sequence is cut in time (contiguously); several are dealt out whole, in order."""
    fractions = parse_split(split)
    if len(sequences) == 1:
        one = sequences[0]
        n = len(one.values)
        cut1 = int(round(n * fractions[0]))
        cut2 = n if fractions[2] == 0 else int(round(n * (fractions[0] + fractions[1])))
        part = lambda a, b: Sequence(one.name, one.columns, one.values[a:b], None if one.pen is None else one.pen[a:b])
        return {"train": [part(0, cut1)], "valid": [part(cut1, cut2)], "test": [part(cut2, n)]}
    n = len(sequences)
    train = max(1, int(round(n * fractions[0])))
    valid = max(1 if fractions[1] > 0 else 0, int(round(n * fractions[1])))
    if train + valid > n:
        train = n - valid
    if train < 1:
        raise RnnlabError(f"{n} sequences are too few to give train and valid one each; add files")
    test_start = n if fractions[2] == 0 else train + valid
    return {"train": sequences[:train], "valid": sequences[train:train + valid], "test": sequences[test_start:]}


def estimate_season(values: np.ndarray, longest: int = 400) -> int:
    """The lag of the highest autocorrelation peak (a local maximum above 0.2), or 0 when there is none."""
    x = values - values.mean()
    n = len(x)
    top = min(longest, n // 3)
    if top < 3 or not x.any():
        return 0
    acf = np.array([np.dot(x[:-lag], x[lag:]) for lag in range(1, top + 1)]) / np.dot(x, x)   # acf[k] is lag k+1
    peaks = [k + 1 for k in range(1, len(acf) - 1) if acf[k] > acf[k - 1] and acf[k] >= acf[k + 1] and acf[k] > 0.2]
    return max(peaks, key=lambda lag: acf[lag - 1]) if peaks else 0


def fit_spec(train: list[Sequence], columns: list[str], config: SeriesConfig, corpus: str) -> SeriesSpec:
    values = np.concatenate([s.values for s in train])
    pen = bool(config.pen_column)
    if pen:   # offsets: one spread per column, no shift, so that 0 stays 0
        mean = np.zeros(values.shape[1])
        std = np.sqrt((values ** 2).mean(axis=0))
    else:
        mean, std = values.mean(axis=0), values.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    season = config.season or (0 if pen else estimate_season(train[0].values[:, 0]))
    return SeriesSpec(columns, mean.tolist(), std.tolist(), pen, season, corpus,
                      pen_column=config.pen_column if pen else "pen")


def stream(spec: SeriesSpec, sequences: list[Sequence]) -> torch.Tensor:
    """Sequences as one normalised (length, features) float tensor."""
    if not sequences:
        return torch.zeros(0, spec.features)
    return torch.from_numpy(np.concatenate([spec.rows(s.values, s.pen) for s in sequences]))


def load_splits(config: DataConfig, spec: SeriesSpec | None = None,
                series: SeriesConfig | None = None) -> tuple[SeriesSpec, dict[str, list[Sequence]]]:
    """Read and split the configured source; fit the statistics on train unless a run's are given."""
    series = series or SeriesConfig()
    sequences = read_sequences(config, series)
    columns = sequences[0].columns
    for other in sequences[1:]:
        if other.columns != columns:
            raise RnnlabError(f"{other.name}: columns {', '.join(other.columns)} differ from {sequences[0].name}'s "
                              f"({', '.join(columns)}); pass --columns")
    parts = split_sequences(sequences, config.split)
    if spec is None:
        spec = fit_spec(parts["train"], columns, series, config.corpus)
    elif spec.columns != columns:
        raise RnnlabError(f"{config.corpus}: columns {', '.join(columns)} differ from the run's "
                          f"({', '.join(spec.columns)})")
    return spec, parts


def prepare_series_run(config: DataConfig, series: SeriesConfig, run_folder: Path, resume: bool):
    """The series task's training data: statistics saved as series.json in the run."""

    saved = SeriesSpec.load(run_folder / "series.json") if resume else None
    spec, parts = load_splits(config, saved, series)
    splits = {name: stream(spec, seqs) for name, seqs in parts.items()}
    kind = "strokes (stroke-5 rows)" if spec.pen else "series"
    summary = (f"{kind}: {len(splits['train']):,} training steps of {spec.features} features "
               f"({', '.join(spec.columns)}{' + pen' if spec.pen else ''})")
    return StreamData(splits, spec.features, "nll", summary, lambda folder: spec.save(folder / "series.json"))


def load_series_run_assets(run) -> tuple[None, None, int, SeriesSpec]:
    """For opening a series run: no tokeniser or vocabulary; the row width and the statistics."""
    spec = SeriesSpec.load(run.path / "series.json")
    return None, None, spec.features, spec

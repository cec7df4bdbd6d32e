"""`rnnlab generate` for series runs: continue the data (a forecast) or a drawing, step by step.

The model is driven as the token sampler drives a language model: `step_logits` gives the head's
parameters for the next step, the head samples a row, the row is fed back. `SamplingConfig`'s
length, temperature, greedy and seed mean the same here; a stroke model stops at its `end` state.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.tasks.series.config import SeriesConfig
from rnnlab.tasks.series.data import PEN_STATES, SeriesSpec, load_splits, read_table
from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import SamplingConfig


def start_row(spec: SeriesSpec) -> np.ndarray:
    """The row a model starts from without a prime: a stroke model's `end` (a new drawing), else the mean."""
    row = np.zeros((1, spec.features), dtype=np.float32)
    if spec.pen:
        row[0, -1] = 1.0
    return row


def history_rows(trained) -> np.ndarray:
    """All of the run's data in order (train, valid, test), normalised: what a forecast continues."""
    spec: SeriesSpec = trained.assets
    _, parts = load_splits(trained.config.data, spec, SeriesConfig.of(trained.config))
    sequences = parts["train"] + parts["valid"] + parts["test"]
    return np.concatenate([spec.rows(s.values, s.pen) for s in sequences])


def prime_file_rows(spec: SeriesSpec, path: Path) -> np.ndarray:
    """A CSV / NPY file with the run's columns (and pen column for strokes) as normalised rows."""
    names, numeric, text = read_table(path)
    wanted = spec.columns + ([spec.pen_column] if spec.pen else [])
    not_numbers = [f"{c!r} ({text[c]})" for c in wanted if c in text]
    if not_numbers:
        raise RnnlabError(f"{path}: column(s) {', '.join(not_numbers)} must hold numbers")
    missing = [c for c in wanted if c not in numeric]
    if missing and len(names) == len(wanted) and all(n in numeric for n in names):   # no header: by position
        numeric = {w: numeric[n] for w, n in zip(wanted, names)}
    elif missing:
        raise RnnlabError(f"{path}: lacks column(s) {', '.join(missing)} (has {', '.join(names)})")
    values = np.stack([numeric[c] for c in spec.columns], axis=1)
    if len(values) == 0:
        raise RnnlabError(f"{path}: has no rows to start from")
    if not np.isfinite(values).all():
        raise RnnlabError(f"{path}: has empty or infinite cells; a prime must be complete")
    rows = spec.rows(values, numeric[wanted[-1]] if spec.pen else None)
    return rows[:-1] if spec.pen else rows          # keep the drawing open: no `end` row


@torch.no_grad()
def continue_rows(model, prime: np.ndarray, config: SamplingConfig, device) -> np.ndarray:
    """Rows (length, features) that follow the normalised prime (T, features)."""
    config.validate()
    generator = torch.Generator(device=device).manual_seed(config.seed) if config.seed is not None else None
    inputs = torch.from_numpy(np.ascontiguousarray(prime, dtype=np.float32)).to(device).unsqueeze(1)  # (time, 1, F)
    params, state = model.step_logits(inputs, model.initial_state(1))
    rows = []
    for _ in range(config.length):
        row = model.sample(params, config.temperature, config.greedy, generator)             # (1, F)
        rows.append(row[0].cpu().numpy())
        if model.has_pen and row[0, -1] > 0.5:
            break
        params, state = model.step_logits(row.unsqueeze(0), state)
    return np.stack(rows) if rows else np.zeros((0, prime.shape[1]), np.float32)


def table(spec: SeriesSpec, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Header and raw values (T, columns[+pen]); strokes in stroke-3 (pen 1: lifted after the point)."""
    values, pen = spec.decode(rows)
    if not spec.pen:
        return list(spec.columns), values
    keep = pen != PEN_STATES.index("end")
    lifted = (pen == PEN_STATES.index("up")).astype(float)
    return spec.columns + [spec.pen_column], np.column_stack([values, lifted])[keep]


def write_csv(path: Path, header: list[str], values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[f"{v:.6g}" for v in row] for row in values])


@dataclass
class Forecast:
    """A series continued: the columns, the generated rows and the prime they follow, in the data's units
    (strokes: stroke-3 rows, pen 1 = lifted after the point)."""

    columns: list[str]
    values: np.ndarray            # (steps, columns)
    prime: np.ndarray             # (prime steps, columns)
    drawing: bool                 # stroke data: a drawing rather than a forecast
    prime_steps: int = 0          # model steps the prime took (a new drawing: its one start step)

    def plot(self):
        """A matplotlib Figure: the forecast after its history, or the drawing after its prime."""
        from rnnlab.tasks.series.drawing import drawing_figure, forecast_figure

        if self.drawing:
            return drawing_figure(self.prime, self.values)
        return forecast_figure(self.prime, self.values, self.columns)

    def to_csv(self, path: str | Path) -> Path:
        """Write the generated rows as CSV with a header row."""
        path = Path(path)
        write_csv(path, self.columns, self.values)
        return path


def forecast(trained, config: SamplingConfig, prime_file: str | None = None, context: int = 0,
             prime_values: np.ndarray | None = None) -> Forecast:
    """Continue a series: the run's own data, a CSV / NPY file, or rows given in the data's units."""
    spec: SeriesSpec = trained.assets
    if context < 0:
        raise RnnlabError("--context must be 0 (all) or a positive number of steps")
    if prime_values is not None:
        prime = given_rows(spec, prime_values)
    elif prime_file:
        prime = prime_file_rows(spec, Path(prime_file))
    elif spec.pen:
        prime = start_row(spec)
    else:
        prime = history_rows(trained)
    if context:
        prime = prime[-context:]
    rows = continue_rows(trained.model, prime, config, trained.device)
    header, values = table(spec, rows)
    shown = prime if (prime_file or prime_values is not None or not spec.pen) else prime[:0]
    return Forecast(header, values, table(spec, shown)[1], bool(spec.pen), len(prime))


def given_rows(spec: SeriesSpec, values) -> np.ndarray:
    """Rows handed in from Python (steps, columns[+pen]) as normalised model rows."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[1] != len(spec.columns) + (1 if spec.pen else 0) or len(values) == 0:
        raise RnnlabError(f"a prime is rows of {len(spec.columns) + (1 if spec.pen else 0)} number(s) "
                          f"({', '.join(spec.columns)}{', pen' if spec.pen else ''}), got shape {values.shape}")
    if not np.isfinite(values).all():
        raise RnnlabError("a prime must hold finite numbers only")
    rows = spec.rows(values[:, :len(spec.columns)], values[:, -1] if spec.pen else None)
    return rows[:-1] if spec.pen else rows


def generate_series(model, config: SamplingConfig, out: Path, prime_file: str | None = None,
                    context: int = 0) -> dict:
    """Write a SeriesModel's continuation as CSV (and a PNG beside it); returns what was written."""
    from rnnlab.files import save_figure

    if prime_file and Path(prime_file).resolve() in (out.resolve(), out.with_suffix(".png").resolve()):
        raise RnnlabError(f"{out}: is the --prime-file being read; write the continuation elsewhere")
    result = model.forecast(config.length, prime_file=prime_file, context=context, temperature=config.temperature,
                            greedy=config.greedy, seed=config.seed)
    result.to_csv(out)
    picture = out.with_suffix(".png")
    save_figure(result.plot(), picture)
    return {"csv": str(out), "png": str(picture), "steps": len(result.values), "prime_steps": result.prime_steps}

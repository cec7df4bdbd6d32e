"""`rnnlab generate` for series runs: continue the data (a forecast) or a drawing, step by step.

The model is driven as the token sampler drives a language model: `step_logits` gives the head's
parameters for the next step, the head samples a row, the row is fed back. `SamplingConfig`'s
length, temperature, greedy and seed mean the same here; a stroke model stops at its `end` state.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

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
    _, parts = load_splits(trained.config.data, spec)
    sequences = parts["train"] + parts["valid"] + parts["test"]
    return np.concatenate([spec.rows(s.values, s.pen) for s in sequences])


def prime_file_rows(spec: SeriesSpec, path: Path) -> np.ndarray:
    """A CSV / NPY file with the run's columns (and pen column for strokes) as normalised rows."""
    names, numeric, text = read_table(path)
    wanted = spec.columns + ([spec.extra.get("pen_column", "pen")] if spec.pen else [])
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
    return spec.columns + [spec.extra.get("pen_column", "pen")], np.column_stack([values, lifted])[keep]


def write_csv(path: Path, header: list[str], values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[f"{v:.6g}" for v in row] for row in values])


def generate_series(trained, config: SamplingConfig, out: Path, prime_file: str | None = None,
                    context: int = 0) -> dict:
    """Write the continuation as CSV (and a PNG beside it); returns what was written."""
    from rnnlab.render.series import plot_drawing, plot_forecast

    spec: SeriesSpec = trained.assets
    if prime_file:
        prime = prime_file_rows(spec, Path(prime_file))
    elif spec.pen:
        prime = start_row(spec)
    else:
        prime = history_rows(trained)
    if context < 0:
        raise RnnlabError("--context must be 0 (all) or a positive number of steps")
    if prime_file and Path(prime_file).resolve() in (out.resolve(), out.with_suffix(".png").resolve()):
        raise RnnlabError(f"{out}: is the --prime-file being read; write the continuation elsewhere")
    if context:
        prime = prime[-context:]
    rows = continue_rows(trained.model, prime, config, trained.device)
    header, values = table(spec, rows)
    write_csv(out, header, values)
    picture = out.with_suffix(".png")
    if spec.pen:
        _, before = table(spec, prime) if prime_file else (header, values[:0])
        plot_drawing(before, values, picture)
    else:
        plot_forecast(table(spec, prime)[1], values, header, picture)
    return {"csv": str(out), "png": str(picture), "steps": len(values), "prime_steps": len(prime)}

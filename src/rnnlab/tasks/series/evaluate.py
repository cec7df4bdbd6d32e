"""`rnnlab evaluate` for series runs: one-step-ahead MSE / MAE / NLL next to naive baselines.

The model reads the whole data in order (train, valid, test) with its state carried, as a
forecaster would, and only the steps of the chosen split are scored. Baselines: the training mean,
the last value, and the value one season back; their NLL uses a Gaussian whose spread is fitted
to that baseline's errors on the training split. Errors are in the data's own units.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rnnlab.tasks.series.config import SeriesConfig
from rnnlab.tasks.series.data import PEN_STATES, SeriesSpec, load_splits
from rnnlab.errors import RnnlabError

WINDOW = 512


@torch.no_grad()
def predict(model, rows: np.ndarray, device) -> tuple[np.ndarray, np.ndarray]:
    """Per step t: head parameters predicting row t+1, and that prediction's NLL (nats)."""
    state = model.initial_state(1)
    params = []
    inputs = torch.from_numpy(rows).to(device).unsqueeze(1)            # (time, batch=1, features)
    for start in range(0, len(rows), WINDOW):
        raw, state = model.recurrent(inputs[start:start + WINDOW], state)
        params.append(model.params(raw))
    params = torch.cat(params)                                          # (time, 1, P)
    nll = model.nll(params[:-1], inputs[1:])[:, 0]                      # (time-1,)
    return params[:, 0], nll.cpu().numpy()


def gaussian_nll(errors: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Per-step NLL (summed over columns) of errors under N(0, spread^2)."""
    return (0.5 * (errors / spread) ** 2 + np.log(spread) + 0.5 * np.log(2 * np.pi)).sum(-1)


def scores(errors: np.ndarray) -> dict:
    return {"mse": float(np.mean(errors ** 2)), "mae": float(np.mean(np.abs(errors)))}


def baseline_predictions(values: np.ndarray, spec: SeriesSpec, season: int) -> dict[str, np.ndarray]:
    """Each baseline's prediction of every row (NaN where it has none): values (T, columns)."""
    out = {"mean": np.broadcast_to(np.asarray(spec.mean), values.shape).copy()}
    last = np.full_like(values, np.nan)
    last[1:] = values[:-1]
    out["last value"] = last
    if season > 1:
        back = np.full_like(values, np.nan)
        back[season:] = values[:-season]
        out[f"seasonal naive ({season})"] = back
    if spec.pen:          # offsets: predicting no movement is the natural zero
        out = {"zero offset": np.zeros_like(values), "last value": last}
    return out


def evaluate_series_run(trained, split: str = "test", data_file: str | None = None) -> dict:
    spec: SeriesSpec = trained.assets
    config = trained.config.data
    if data_file:
        config = dataclasses.replace(config, corpus=data_file, split="0.98,0.01,0.01")
        _, parts = load_splits(config, spec, SeriesConfig.of(trained.config))
        sequences, scored_names = parts["train"] + parts["valid"] + parts["test"], None
    else:
        _, parts = load_splits(config, spec, SeriesConfig.of(trained.config))
        sequences, scored_names = parts["train"] + parts["valid"] + parts["test"], split
    blocks = [spec.rows(s.values, s.pen) for s in sequences]
    owner = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)])
    rows = np.concatenate(blocks).astype(np.float32)
    if scored_names is None:
        scored = np.ones(len(rows), bool)
    else:
        first = {"train": 0, "valid": len(parts["train"]), "test": len(parts["train"]) + len(parts["valid"])}[split]
        chosen = set(range(first, first + len(parts[split])))
        scored = np.isin(owner, list(chosen))
    scored[0] = False                                          # nothing predicts the first row
    if scored.sum() < 1:
        raise RnnlabError(f"{config.corpus}: the {split} split has no steps to score; choose another --split")

    params, nll = predict(trained.model, rows, trained.device)
    values, pen = spec.decode(rows)
    point = spec.denormalise(trained.model.point(params).cpu().numpy())     # point[t] predicts values[t+1]
    predicted = np.full_like(values, np.nan)
    predicted[1:] = point[:-1]
    step_nll = np.concatenate([[np.nan], nll])
    value_rows = np.ones(len(rows), bool) if pen is None else pen != PEN_STATES.index("end")
    has_value = scored & value_rows
    jacobian = float(np.log(np.asarray(spec.std)).sum())       # nats from normalised to data units

    result = {"data": data_file or f"{config.corpus} ({split})", "split": None if data_file else split,
              "columns": spec.columns, "steps": int(scored.sum()),
              "model": {**scores(values[has_value] - predicted[has_value]),
                        "nll": float(np.mean(step_nll[scored])),
                        "nll_data_units": float(np.mean(step_nll[scored]) + jacobian * has_value.sum() / scored.sum())},
              "baselines": {}}
    train_rows = np.isin(owner, list(range(len(parts["train"])))) if not data_file else scored
    for name, guess in baseline_predictions(values, spec, spec.season).items():
        ok = has_value & ~np.isnan(guess).any(1)
        fit = train_rows & value_rows & ~np.isnan(guess).any(1)
        if not ok.any() or not fit.any():
            continue
        spread = np.maximum(np.sqrt(np.mean((values[fit] - guess[fit]) ** 2, axis=0)), 1e-9)
        errors = values[ok] - guess[ok]
        result["baselines"][name] = {**scores(errors), "nll_data_units": float(np.mean(gaussian_nll(errors, spread))),
                                     "steps": int(ok.sum())}
    if pen is not None:
        target_pen = pen[scored]
        guessed = params[:-1, -len(PEN_STATES):].argmax(-1).cpu().numpy()
        result["model"]["pen_accuracy"] = float(np.mean(guessed[scored[1:]] == target_pen))
    return result


def describe(result: dict) -> str:
    """A small table: model and baselines, MSE / MAE / NLL in the data's units."""
    lines = [f"{result['data']}: {result['steps']:,} one-step-ahead predictions of "
             f"{', '.join(result['columns'])}",
             f"{'':26}{'MSE':>14}{'MAE':>12}{'NLL/step':>12}"]
    model = result["model"]
    lines.append(f"{'model':26}{model['mse']:>14.6g}{model['mae']:>12.6g}{model['nll_data_units']:>12.4f}")
    for name, b in result["baselines"].items():
        lines.append(f"{name:26}{b['mse']:>14.6g}{b['mae']:>12.6g}{b['nll_data_units']:>12.4f}")
    extra = f"; pen-state accuracy {model['pen_accuracy']:.3f}" if "pen_accuracy" in model else ""
    lines.append(f"(NLL in nats per step in the data's units; {model['nll']:.4f} in the normalised units "
                 f"training reports{extra})")
    return "\n".join(lines)

"""`rnnlab inspect`: what each unit of a trained text model does while it reads a text.

Runs a run's weights (trained by either engine) in the NumPy model over the text, keeps every
layer's gates, cell state and hidden state per token, and finds the units that follow simple
features of the text, as Karpathy et al. (2015) found a cell that tracks the position in a line
and one that switches on inside quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.data.tokenize import EOS
from rnnlab.errors import RnnlabError
from rnnlab.scratch.adapter import open_numpy_run

TOGGLES = '"'                  # the same mark opens and closes
OPENING, CLOSING = "“「『", "”」』"
MAX_TOKENS = 400


@dataclass
class Inspection:
    tokens: list[str]
    layers: list[dict[str, np.ndarray]]     # per layer: activation name -> (time, hidden)
    features: dict[str, np.ndarray]         # feature name -> (time,)
    unknown: list[str]                      # tokens the vocabulary lacks (read as <unk>)
    cell: str


def text_features(tokens: list[str]) -> dict[str, np.ndarray]:
    """Per token: its position in the line (tokens since the last line break) and whether it is
    inside quotes (after an opening mark, up to and including the closing one)."""
    position, inside = np.zeros(len(tokens)), np.zeros(len(tokens))
    column, depth, toggled = 0, 0, False
    for t, token in enumerate(tokens):
        position[t], inside[t] = column, float(depth > 0 or toggled)
        column = 0 if token in ("\n", EOS) else column + 1
        for char in token:
            toggled ^= char in TOGGLES
            depth += (char in OPENING) - (char in CLOSING and depth > 0)
    return {"position in line": position, "inside quotes": inside}


def inspect_text(path, text: str, which: str = "best") -> Inspection:
    """Read `text` with the run's model, keeping every layer's activations."""
    trained = open_numpy_run(path, which)
    tokens = trained.tokenizer.split(text)
    if not tokens:
        raise RnnlabError("--text: no tokens to read; give some text")
    if len(tokens) > MAX_TOKENS:
        raise RnnlabError(f"--text: {len(tokens)} tokens; the picture holds at most {MAX_TOKENS}")
    model = trained.model.model
    ids = np.array(trained.vocab.encode(tokens))[:, None]          # (time, batch=1)
    model.reset_state()
    model.hidden(ids)
    layers = [{name: values[:, 0, :] for name, values in layer.activations().items()} for layer in model.layers]
    return Inspection(tokens, layers, text_features(tokens), trained.vocab.unknown(tokens), trained.config.model.cell)


def correlations(activations: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of each unit's activation (time, units) with a feature (time,); 0 for a constant unit."""
    centred = activations - activations.mean(axis=0)
    target = feature - feature.mean()
    scale = np.sqrt((centred * centred).sum(axis=0) * (target * target).sum())
    return np.divide(centred.T @ target, scale, out=np.zeros(activations.shape[1]), where=scale > 0)


def top_units(inspection: Inspection, count: int = 3) -> list[dict]:
    """For each feature that varies over the text, the units most correlated with it (by |r|)."""
    found = []
    for feature_name, feature in inspection.features.items():
        if feature.std() == 0:
            continue
        candidates = []
        for layer, activations in enumerate(inspection.layers, start=1):
            for name, values in activations.items():
                r = correlations(values.astype(np.float64), feature)
                candidates += [(abs(r[u]), layer, name, int(u), float(r[u])) for u in range(r.size)]
        candidates.sort(key=lambda c: -c[0])
        found += [{"feature": feature_name, "layer": layer, "activation": name, "unit": unit, "r": r}
                  for _, layer, name, unit, r in candidates[:count]]
    return found

"""`rnnlab inspect`: what each unit of a trained model does while it reads a text or a piece of music.

Runs a run's weights (trained by either engine) in the NumPy engine over the input, keeps every
layer's gates, cell state and hidden state per step, and finds the units that follow simple
features of the input, as Karpathy et al. (2015) found a cell that tracks the position in a line
and one that switches on inside quotes. Music runs read a MIDI file (or event tokens) and are
compared with the pitch being played; piano-roll runs read frames of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnlab.tasks.music.midi import KEYS, LOWEST_KEY, pitch_name, read_midi_file
from rnnlab.data.tokenize import EOS
from rnnlab.errors import RnnlabError
from rnnlab.scratch.adapter import NumpyRun, open_numpy_run
from rnnlab.tasks.registry import task_of_run

TOGGLES = '"'                  # the same mark opens and closes
OPENING, CLOSING = "“「『", "”」』"
MAX_TOKENS = 400


@dataclass
class Inspection:
    tokens: list[str]                       # what the time axis is labelled with
    layers: list[dict[str, np.ndarray]]     # per layer: activation name -> (time, hidden)
    features: dict[str, np.ndarray]         # feature name -> (time,)
    unknown: list[str]                      # tokens the vocabulary lacks (read as <unk>)
    cell: str
    notes: list[str] = field(default_factory=list)   # lines for the user (an input cut short)
    steps: str = "tokens"                   # what one step is: tokens, or piano-roll frames


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


def held(pitches: list[int | None]) -> np.ndarray:
    """Each step's most recent pitch (before the first one: the first); zeros when there is none."""
    out, last = np.zeros(len(pitches)), next((p for p in pitches if p is not None), 0)
    for t, pitch in enumerate(pitches):
        last = pitch if pitch is not None else last
        out[t] = last
    return out


def event_features(pitches: list[int | None]) -> dict[str, np.ndarray]:
    """Per event token, from the pitch each token starts (None: it starts no note): the pitch of
    the latest note and whether the token starts one."""
    return {"note pitch": held(pitches), "note onset": np.array([p is not None for p in pitches], float)}


def highest_pitches(frames: np.ndarray) -> list[int | None]:
    """Per piano-roll frame (time, 88): the highest pitch sounding, None for a rest."""
    return [LOWEST_KEY + int(np.flatnonzero(f)[-1]) if f.any() else None for f in frames]


def frame_features(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per piano-roll frame (time, 88): the highest key sounding (held over rests), and how many sound."""
    return {"note pitch (highest)": held(highest_pitches(frames)), "notes sounding": frames.sum(axis=1).astype(float)}


def read_layers(layers, inputs: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Run inputs (time, batch=1, ...) through a recurrent stack; each layer's activations (time, hidden)."""
    x = inputs
    for layer in layers:
        x = layer.forward(x)
    return [{name: values[:, 0, :] for name, values in layer.activations().items()} for layer in layers]


def read_tokens(trained: NumpyRun, tokens: list[str]) -> list[dict[str, np.ndarray]]:
    """Each layer's activations over `tokens`, read after whatever state the model holds."""
    model = trained.model.model
    return read_layers(model.layers, model.embedding.forward(np.array(trained.vocab.encode(tokens))[:, None]))


def first_steps(count: int, what: str) -> tuple[int, list[str]]:
    """How many steps of a MIDI input to read, and a note when it is cut."""
    if count <= MAX_TOKENS:
        return count, []
    return MAX_TOKENS, [f"read the first {MAX_TOKENS} of its {count:,} {what} (the picture holds {MAX_TOKENS})"]


def inspect_text(trained: NumpyRun, text: str) -> Inspection:
    tokens = trained.tokenizer.split(text)
    if not tokens:
        raise RnnlabError("--text: no tokens to read; give some text")
    if len(tokens) > MAX_TOKENS:
        raise RnnlabError(f"--text: {len(tokens)} tokens; the picture holds at most {MAX_TOKENS}")
    trained.model.model.reset_state()
    return Inspection(tokens, read_tokens(trained, tokens), text_features(tokens), trained.vocab.unknown(tokens),
                      trained.config.model.cell)


def inspect_events(trained: NumpyRun, midi: str | None, text: str | None) -> Inspection:
    """A MIDI-event run reads a file's events (or event tokens typed as text) after the <eos>
    that starts every piece it learnt from."""
    tokenizer, vocab, notes = trained.tokenizer, trained.vocab, []
    if midi:
        tokens = tokenizer.encode(read_midi_file(Path(midi)))
        if not tokens:
            raise RnnlabError(f"{midi}: gives no {tokenizer.name} events to read")
        count, notes = first_steps(len(tokens), f"{tokenizer.name} events")
        tokens = tokens[:count]
    else:
        tokens = (text or "").split()
        if not tokens:
            raise RnnlabError("--text: no events to read; give event tokens or --midi FILE")
        if len(tokens) > MAX_TOKENS:
            raise RnnlabError(f"--text: {len(tokens)} events; the picture holds at most {MAX_TOKENS}")
        if not any(t in vocab.index and tokenizer.is_event(t) for t in tokens):
            examples = " ".join(vocab.tokens[2:6])
            raise RnnlabError(f"--text: none of these are {tokenizer.name} events of this run (such as: "
                              f"{examples}); or pass --midi FILE")
    trained.model.model.reset_state()
    read_tokens(trained, [EOS])                                       # a piece begins here
    layers = read_tokens(trained, tokens)
    pitches = [tokenizer.note_pitch(t) for t in tokens]
    labels = [pitch_name(p) if p is not None else t for t, p in zip(tokens, pitches)]
    return Inspection(labels, layers, event_features(pitches), vocab.unknown(tokens), trained.config.model.cell, notes)


def inspect_frames(trained: NumpyRun, midi: str | None) -> Inspection:
    """A piano-roll run reads the file's frames, the first marked as a piece's start."""
    if not midi:
        raise RnnlabError(f"{trained.run.path}: a piano-roll run reads music: pass --midi FILE")
    frames = trained.tokenizer.frames(read_midi_file(Path(midi)))
    count, notes = first_steps(len(frames), "frames")
    frames = frames[:count]
    dtype = trained.layers[0].cell.dtype
    inputs = np.zeros((count, 1, KEYS + 1), dtype)
    inputs[:, 0, :KEYS] = frames
    inputs[0, 0, KEYS] = 1.0
    for layer in trained.layers:
        layer.reset_state()
    labels = [pitch_name(p) if p is not None else "·" for p in highest_pitches(frames)]
    return Inspection(labels, read_layers(trained.layers, inputs), frame_features(frames), [],
                      trained.config.model.cell, notes, "frames")


def inspect_run(path, text: str | None = None, midi: str | None = None, which: str = "best") -> Inspection:
    """Read a text (text runs) or a MIDI file or event tokens (music runs) with the run's model,
    keeping every layer's activations."""
    task = task_of_run(path)
    trained = open_numpy_run(task, path, which, frames=True)
    if task.inspects == "text":
        if midi:
            raise RnnlabError(f"{trained.run.path}: a text run reads --text, not --midi")
        return inspect_text(trained, text or "")
    if trained.model is None:
        return inspect_frames(trained, midi)
    return inspect_events(trained, midi, text)


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

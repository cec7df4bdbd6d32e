"""What a served model is to the server, and the errors a client's request can earn.

Each task that can be served has a `ServedModel` subclass of its own (tasks/*/serving.py): it
turns a client's input into model inputs, a sampled step back into JSON, and generates whole
continuations; the server knows models only through this interface.
"""

from __future__ import annotations

import torch

from rnnlab.models.recurrent import State

MAX_TOP = 50        # most candidates a step may ask for
MAX_STATE = 64      # most state units a step may ask for


class InputError(ValueError):
    """A client sent something this model cannot take; the message says what and why."""


class CapacityError(InputError):
    """The server holds as many sessions as its settings allow."""


class ServedModel:
    """One loaded run: its name, what it takes and what it gives. Subclasses per kind of data."""

    kind = "tokens"

    def __init__(self, name: str, trained):
        self.name, self.trained, self.model = name, trained, trained.model
        self.device = trained.device

    def describe(self) -> dict:
        return {"name": self.name, "kind": self.kind, "modality": self.trained.config.data.modality,
                "run": str(self.trained.run.path), "cell": self.trained.config.model.cell,
                "layers": self.trained.config.model.layers, "hidden": self.trained.config.model.hidden}

    def initial_state(self) -> State:
        return self.model.initial_state(1)

    def candidates(self, params: torch.Tensor, settings, k: int) -> list[dict]:
        """The k likeliest next outputs with their probabilities, most likely first (token models)."""
        raise InputError(f"{self.name} is a {self.kind} model: it has no list of likeliest tokens")

    def state_vector(self, state: State, units: int) -> list[float]:
        """The first `units` units of the top layer's hidden state (h for an LSTM), for visuals."""
        top = state[-1]
        hidden = top[0] if isinstance(top, tuple) else top
        return [round(float(v), 6) for v in hidden.reshape(-1)[:units].float().cpu()]

    def generate(self, prime, config, limit: int) -> dict:
        """A whole continuation from a fresh state (the engine's thread calls this)."""
        raise NotImplementedError


def check_text(value) -> None:
    """Refuse text that cannot be sent back as UTF-8: a lone surrogate ("\\ud800"), which JSON can
    spell but Unicode cannot encode, anywhere in a client's message (keys included)."""
    stack = [value]
    while stack:                                 # a loop, not recursion: nesting may be deep
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as err:
                raise InputError(f"text holds a lone surrogate (U+{ord(item[err.start]):04X}) at character "
                                 f"{err.start}; send valid Unicode") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)

"""The series model: vectors -> stacked RNN/LSTM/GRU -> Gaussian or mixture head (+ pen softmax).

Time-major like the language model: inputs (time, batch, features), one row per step. It keeps
the Trainer's contract (`forward` returns the summed NLL as LMOutput, `initial_state`,
`step_logits`), so training, evaluation, resume and serving treat it like a text model;
`step_logits` returns the head's parameters in place of logits.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.config import ModelConfig
from rnnlab.tasks.series.config import SeriesConfig
from rnnlab.tasks.series.mixture import GaussianHead, MixtureDensityHead, PenHead
from rnnlab.models.output import LMOutput
from rnnlab.models.recurrent import State, StackedRecurrent
from rnnlab.models.regularize import LockedDropout, activity_penalty

PEN_STATES = 3   # down, up, end (sketch-rnn's stroke-5)


class SeriesModel(nn.Module):
    def __init__(self, config: ModelConfig, features: int, pen: bool, head: str, mixtures: int = 5):
        super().__init__()
        self.config, self.features, self.has_pen = config, features, pen
        self.values_size = features - PEN_STATES if pen else features
        self.recurrent = StackedRecurrent(config, features)
        self.output_dropout = LockedDropout(config.dropout, config.variational)
        self.values = (MixtureDensityHead(config.hidden, self.values_size, mixtures) if head == "mdn"
                       else GaussianHead(config.hidden, self.values_size))
        self.pen = PenHead(config.hidden, PEN_STATES) if pen else None

    @property
    def param_size(self) -> int:
        return self.values.param_size + (self.pen.param_size if self.pen else 0)

    def initial_state(self, batch_size: int) -> State:
        return self.recurrent.initial_state(batch_size, next(self.parameters()).device)

    def params(self, hidden: torch.Tensor) -> torch.Tensor:
        """Head parameters (..., param_size) for hidden states (..., hidden)."""
        out = self.values(hidden)
        return torch.cat([out, self.pen(hidden)], dim=-1) if self.pen else out

    def split(self, params: torch.Tensor):
        cut = self.values.param_size
        return params[..., :cut], (params[..., cut:] if self.pen else None)

    def nll(self, params: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-step NLL (time, batch); a pen `end` target scores only its pen state (sketch-rnn's mask)."""
        value_params, pen_logits = self.split(params)
        value_nll = self.values.nll(value_params, targets[..., :self.values_size])
        if not self.pen:
            return value_nll
        pen_target = targets[..., self.values_size:]
        return value_nll * (1 - pen_target[..., -1]) + self.pen.nll(pen_logits, pen_target)

    def forward(self, inputs: torch.Tensor, state: State, targets: torch.Tensor | None = None,
                activation_reg: float = 0.0, temporal_reg: float = 0.0) -> LMOutput:
        raw, state = self.recurrent(inputs, state)                       # (time, batch, hidden)
        dropped = self.output_dropout(raw)
        if targets is None:
            return LMOutput(None, 0, state, None)
        nll = self.nll(self.params(dropped), targets).sum()
        penalty = activity_penalty(raw, dropped, activation_reg, temporal_reg, self.training)
        return LMOutput(nll, targets.shape[0] * targets.shape[1], state, penalty)

    @torch.no_grad()
    def step_logits(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Head parameters for the step after the last input: inputs (time, batch, features) -> (batch, P)."""
        raw, state = self.recurrent(inputs, state)
        return self.params(self.output_dropout(raw[-1])), state

    @torch.no_grad()
    def sample(self, params: torch.Tensor, temperature: float = 1.0, greedy: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """The next row (batch, features), normalised, with a one-hot pen state for strokes."""
        value_params, pen_logits = self.split(params)
        values = self.values.sample(value_params, temperature, greedy, generator)
        if not self.pen:
            return values
        pen = self.pen.sample(pen_logits, temperature, greedy, generator)
        return torch.cat([values * (1 - pen[:, -1:]), pen], dim=-1)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """The expected next values (..., values_size): the forecast scored by MSE / MAE."""
        return self.values.point(self.split(params)[0])


def resolve_head(series: SeriesConfig) -> str:
    """`auto` means gaussian, or mdn for stroke data."""
    if series.head != "auto":
        return series.head
    return "mdn" if series.pen_column else "gaussian"


def build_series_model(config, features: int) -> SeriesModel:
    """The model for a series RunConfig; `features` is the width of one stream row."""
    series = SeriesConfig.of(config)
    return SeriesModel(config.model, features, bool(series.pen_column), resolve_head(series), series.mixtures)

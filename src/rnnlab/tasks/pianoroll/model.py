"""The piano-roll model: 88-key frames in, the next frame's 88 Bernoulli probabilities out.

Input frames are (time, batch, 89): 88 keys and a piece-start column; a target frame whose
piece-start column is 1 is not scored (the first frame of a piece has nothing before it).
The loss is the frame-level NLL of the polyphonic benchmark: the sum over 88 keys of the
Bernoulli NLL, per scored frame. Two heads: `BernoulliHead` (keys independent given the
state) and `NadeHead` (keys in order, each conditioned on those below it, as RNN-NADE).

Two regularisers act here rather than in the layers: weight drop (DropConnect on every layer's
hidden-to-hidden matrix) draws one mask per training window, kept across the pieces that start
inside it. `average` keeps an exponential moving average of the weights (`AveragedWeights`), which
the training loop validates with and every later use of the run takes.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.config import ModelConfig
from rnnlab.models.averaging import AveragedWeights
from rnnlab.models.recurrent import StackedRecurrent, State, map_state
from rnnlab.models.regularize import LockedDropout, activity_penalty, with_weight_drop
from rnnlab.models.output import LMOutput
from rnnlab.tasks.pianoroll.config import PianorollConfig

KEYS = 88


def keep_top_k(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """Logits (batch, keys) with all but the k most likely keys switched off (-inf)."""
    if not top_k or top_k >= logits.size(-1):
        return logits
    kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


class BernoulliHead(nn.Module):
    """p(key on) = sigmoid(W h + b), every key independent given the recurrent state."""

    def __init__(self, hidden_size: int, keys: int = KEYS):
        super().__init__()
        self.project = nn.Linear(hidden_size, keys)

    def logits(self, hidden: torch.Tensor, frames: torch.Tensor | None = None) -> torch.Tensor:
        return self.project(hidden)                                    # (N, keys)

    def frame_nll(self, hidden: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame NLL (N,) summed over keys; hidden (N, hidden), frames (N, keys) of 0/1."""
        return F.binary_cross_entropy_with_logits(self.logits(hidden), frames, reduction="none").sum(-1)

    @torch.no_grad()
    def sample(self, hidden: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        logits = keep_top_k(self.logits(hidden) / temperature, top_k)
        return torch.bernoulli(torch.sigmoid(logits), generator=generator)


class NadeHead(nn.Module):
    """NADE over the keys of one frame, its biases set by the recurrent state (RNN-NADE).

    a_j = c(h) + W[:, :j] v_<j;  p(v_j = 1) = sigmoid(b_j(h) + V_j . sigmoid(a_j)).
    Training computes every a_j at once: the frame masked to the keys below each key, times W.
    """

    CHUNK = 2048                                                         # frames at a time without gradients

    def __init__(self, hidden_size: int, keys: int = KEYS, nade_hidden: int = 128):
        super().__init__()
        self.to_visible_bias = nn.Linear(hidden_size, keys)             # b(h)
        self.to_hidden_bias = nn.Linear(hidden_size, nade_hidden)       # c(h)
        self.W = nn.Parameter(torch.randn(nade_hidden, keys) * 0.01)    # visible -> NADE hidden
        self.V = nn.Parameter(torch.randn(keys, nade_hidden) * 0.01)    # NADE hidden -> visible
        self.register_buffer("below", torch.tril(torch.ones(keys, keys), -1), persistent=False)   # [j, k]: k < j

    def logits(self, hidden: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Logit of each key given the keys below it in `frames`: (N, keys)."""
        below = frames.unsqueeze(1) * self.below                          # (N, keys j, keys k): v_k for k < j
        activations = torch.sigmoid(self.to_hidden_bias(hidden).unsqueeze(1) + below @ self.W.t())   # (N, j, nade_hidden)
        return self.to_visible_bias(hidden) + (activations * self.V).sum(2)

    def frame_nll(self, hidden: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or hidden.size(0) <= self.CHUNK:
            return F.binary_cross_entropy_with_logits(self.logits(hidden, frames), frames, reduction="none").sum(-1)
        return torch.cat([self.frame_nll(h, f) for h, f in zip(hidden.split(self.CHUNK), frames.split(self.CHUNK))])

    @torch.no_grad()
    def sample(self, hidden: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Keys drawn lowest first; with top_k, no more than k keys sound in a frame."""
        bias = self.to_visible_bias(hidden)                               # (batch, keys)
        activation = self.to_hidden_bias(hidden)                          # (batch, nade_hidden)
        frame = torch.zeros_like(bias)
        for key in range(bias.size(1)):
            logit = bias[:, key] + torch.sigmoid(activation) @ self.V[key]
            on = torch.bernoulli(torch.sigmoid(logit / temperature), generator=generator)
            if top_k:
                on = on * (frame.sum(1) < top_k)
            frame[:, key] = on
            activation = activation + on[:, None] * self.W[:, key]
        return frame


class PianorollModel(AveragedWeights):
    """Frames (88 keys and the piece-start mark) -> stacked recurrent layers -> a Bernoulli or NADE
    head over the next frame's keys; `roll` chooses the head."""

    def __init__(self, config: ModelConfig, roll: PianorollConfig | None = None, keys: int = KEYS,
                 average: float = 0.0):
        super().__init__()
        roll = roll or PianorollConfig()
        self.config, self.keys = config, keys
        self.input_dropout = LockedDropout(config.dropout_embed, config.variational)
        # weight drop is drawn here, once per window, not by the layers once per piece
        self.recurrent = StackedRecurrent(dataclasses.replace(config, weight_drop=0.0), keys + 1)
        self.output_dropout = LockedDropout(config.dropout, config.variational)
        self.head = (NadeHead(config.hidden, keys, roll.nade_hidden) if roll.frame_head == "nade"
                     else BernoulliHead(config.hidden, keys))
        self.keep_average(average)          # --average: buffers average_<parameter>, in checkpoints too

    def initial_state(self, batch_size: int) -> State:
        return self.recurrent.initial_state(batch_size, next(self.parameters()).device)

    def hidden(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Last layer's outputs before and after output dropout, each (time, batch, hidden).

        A piece starts from the zero state, as the benchmark scores it: where a column's
        piece-start mark rises (training streams join pieces), its state is zeroed first.
        """
        starts = inputs[..., self.keys] > 0                                            # (time, batch)
        rises = starts.clone()
        rises[1:] &= ~starts[:-1]
        times = rises.any(1).nonzero().flatten().tolist()
        dropped_inputs = self.input_dropout(inputs)
        recurrent = with_weight_drop(self.recurrent, self.config.weight_drop, self.training)   # one mask a window
        if not times:
            raw, state = recurrent(dropped_inputs, state)
            return raw, self.output_dropout(raw), state
        outputs = []
        bounds = ([0] if times[0] else []) + times + [inputs.size(0)]
        for begin, end in zip(bounds[:-1], bounds[1:]):
            keep = (~rises[begin]).to(inputs.dtype).view(1, -1, 1)
            state = map_state(state, lambda t: t * keep)
            out, state = recurrent(dropped_inputs[begin:end], state)
            outputs.append(out)
        raw = torch.cat(outputs)
        return raw, self.output_dropout(raw), state

    def forward(self, inputs: torch.Tensor, state: State, targets: torch.Tensor | None = None,
                activation_reg: float = 0.0, temporal_reg: float = 0.0) -> LMOutput:
        """inputs, targets (time, batch, keys + 1); NLL summed over scored target frames."""
        raw, dropped, state = self.hidden(inputs, state)
        if targets is None:
            return LMOutput(None, 0, state, None)
        scored = 1.0 - targets[..., self.keys].reshape(-1)                              # (time*batch,)
        per_frame = self.head.frame_nll(dropped.reshape(-1, dropped.size(-1)),
                                        targets[..., :self.keys].reshape(-1, self.keys))
        penalty = activity_penalty(raw, dropped, activation_reg, temporal_reg, self.training)
        return LMOutput((per_frame * scored).sum(), max(int(scored.sum().item()), 1), state, penalty)

    @torch.no_grad()
    def step_logits(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Each key's logit for the frame after `inputs` (batch, keys), given no key of it is on yet."""
        _, dropped, state = self.hidden(inputs, state)
        last = dropped[-1]
        return self.head.logits(last, torch.zeros(last.size(0), self.keys, device=last.device)), state

    @torch.no_grad()
    def step_frame(self, inputs: torch.Tensor, state: State, temperature: float = 1.0, top_k: int = 0,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, State]:
        """A sampled next frame (batch, keys) after `inputs` (time, batch, keys + 1), and the state."""
        _, dropped, state = self.hidden(inputs, state)
        return self.head.sample(dropped[-1], temperature, top_k, generator), state

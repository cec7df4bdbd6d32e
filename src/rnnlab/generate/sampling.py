"""Sampling from a trained language model: temperature, top-k, top-p, greedy, beam search.

The model is driven one token at a time through `step_logits(inputs (time, batch), state)`,
so any model with that method (text or event vocabularies) can be sampled the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterator

import torch

from rnnlab.errors import RnnlabError
from rnnlab.models.recurrent import select_state
from rnnlab.train.threads import ThreadTuner, timed


def setting(default, help: str, live: bool = True):
    """A sampling setting: `live` ones are also a served client's own (HTTP, WebSocket, OSC)."""
    return field(default=default, metadata={"help": help, "live": live})


MAX_LENGTH = 1_000_000          # tokens or steps one request may ask for: minutes of sampling, not forever


@dataclass
class SamplingConfig:
    """How to draw from a model: the one definition behind `generate`'s flags and the server's settings."""

    length: int = setting(200, "tokens (steps) to generate", live=False)
    temperature: float = setting(1.0, "divide the logits by this: below 1 safer, above 1 wilder")
    top_k: int = setting(0, "sample among the k most likely (0: all)")
    top_p: float = setting(1.0, "nucleus sampling: the smallest set of tokens holding this much probability")
    greedy: bool = setting(False, "always take the most likely token")
    beam: int = setting(0, "beam search of this width (0 or 1: sampling)", live=False)
    seed: int | None = setting(None, "random seed: the same seed, the same output")

    def validate(self) -> None:
        problems = []
        if not 1 <= self.length <= MAX_LENGTH:
            problems.append(f"--length must be 1..{MAX_LENGTH:,} (tokens or steps), not {self.length:,}")
        if not 0 < self.temperature < float("inf"):          # NaN fails this too
            problems.append("--temperature must be a positive number")
        if not 0 < self.top_p <= 1:
            problems.append("--top-p must be in (0, 1]")
        if self.top_k < 0 or self.beam < 0:
            problems.append("--top-k and --beam must not be negative")
        if problems:
            raise RnnlabError("; ".join(problems))

    def changed(self, changes: dict) -> "SamplingConfig":
        """A copy with `changes` ({name: value}, e.g. from a client) applied and checked; a wrong name,
        a value of the wrong kind or out of range raises ValueError naming it."""
        values = dataclasses.asdict(self)
        for key, value in changes.items():
            if key not in LIVE_SETTINGS:
                raise ValueError(f"unknown setting {key!r}; settings are {', '.join(LIVE_SETTINGS)}")
            values[key] = coerce_setting(key, value)
        config = SamplingConfig(**values)
        try:
            config.validate()
        except RnnlabError as err:
            raise ValueError(str(err).replace("--", "").replace("-", "_")) from None
        return config

    def live(self) -> dict:
        """The settings a served client holds, by name."""
        return {name: getattr(self, name) for name in LIVE_SETTINGS}


SETTING_TYPES = {"length": int, "temperature": float, "top_k": int, "top_p": float, "greedy": bool, "beam": int,
                 "seed": int}
LIVE_SETTINGS = tuple(f.name for f in dataclasses.fields(SamplingConfig) if f.metadata["live"])


def coerce_setting(name: str, value):
    """`value` as setting `name` takes it: an integer for a float is fine, a float that is a whole number
    for an integer too (Pd and Max send only floats); anything else raises ValueError."""
    kind = SETTING_TYPES[name]
    if value is None and name == "seed":
        return None
    if isinstance(value, bool) != (kind is bool):
        raise ValueError(f"setting {name} must be {kind.__name__}, got {value!r}")
    if kind is float and isinstance(value, int):
        return float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, kind):
        raise ValueError(f"setting {name} must be {kind.__name__}, got {value!r}")
    return value


def add_sampling_flags(parser, names=None, **defaults) -> None:
    """`--temperature`, `--top-k`, ... from SamplingConfig's fields (all, or `names`), with other defaults."""
    for f in dataclasses.fields(SamplingConfig):
        if names is not None and f.name not in names:
            continue
        flag, default = "--" + f.name.replace("_", "-"), defaults.get(f.name, f.default)
        help_text = f"{f.metadata['help']} (default: {default})"
        if SETTING_TYPES[f.name] is bool:
            parser.add_argument(flag, action="store_true", default=default, help=help_text)
        else:
            parser.add_argument(flag, type=SETTING_TYPES[f.name], default=default, help=help_text)


def sampling_with(base: SamplingConfig | None = None, **settings) -> SamplingConfig:
    """`base` (or the defaults) with the settings given (those not None) applied, checked."""
    given = {name: value for name, value in settings.items() if value is not None}
    config = dataclasses.replace(base or SamplingConfig(), **given)
    config.validate()
    return config


def sampling_from_args(args) -> SamplingConfig:
    """The SamplingConfig a command's parsed flags describe (flags it does not have keep their defaults)."""
    names = [f.name for f in dataclasses.fields(SamplingConfig)]
    config = SamplingConfig(**{name: getattr(args, name) for name in names if hasattr(args, name)})
    config.validate()                     # a flag out of range is one line before any run is opened
    return config


def filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """Set logits outside the top-k / nucleus to -inf; logits (batch, vocab)."""
    if top_k and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop_sorted = cumulative - sorted_logits.softmax(-1) >= top_p   # keep the first token always
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def choose(logits: torch.Tensor, config: SamplingConfig, generator: torch.Generator | None) -> torch.Tensor:
    """Next token ids (batch,) from logits (batch, vocab)."""
    if config.greedy:
        return logits.argmax(-1)
    if config.temperature != 1.0:
        logits = logits / config.temperature
    logits = filter_logits(logits, config.top_k, config.top_p)
    return draw((logits - logits.amax(-1, keepdim=True)).exp_(), generator)     # unnormalised: draw scales


def draw(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One index per row of probs (batch, n), index i with probability probs[:, i] / row sum.

    Inverse transform sampling: one uniform number and one cumulative sum per row. The CPU's
    `torch.multinomial` draws an exponential variate for every entry instead, which for a 10k
    vocabulary cost more than the model's own step when serving.
    """
    cumulative = probs.float().cumsum(-1)
    point = torch.rand(probs.size(0), 1, generator=generator, device=probs.device)
    picked = torch.searchsorted(cumulative, point * cumulative[:, -1:], right=True).clamp_max(probs.size(-1) - 1)
    lost = probs.gather(-1, picked) <= 0                  # rounding at the very top of the range
    if bool(lost.any()):
        picked = torch.where(lost, probs.argmax(-1, keepdim=True), picked)
    return picked.squeeze(-1)


@torch.no_grad()
def prime(model, prime_ids: list[int], device) -> tuple[torch.Tensor, list]:
    """Run the prime through the model: logits for the next token (1, vocab) and the state."""
    state = model.initial_state(1)
    inputs = torch.tensor(prime_ids, dtype=torch.long, device=device).view(-1, 1)   # (time, batch=1)
    return model.step_logits(inputs, state)


def sample(model, prime_ids: list[int], config: SamplingConfig, device, stop_id: int | None = None,
           on_token=None, threads: ThreadTuner | None = None) -> list[int]:
    """Token ids continuing the prime (prime not included); `on_token(id)` hears each as it is drawn
    (not for beam search, whose tokens are known only at the end); `threads` times the steps to pick
    the CPU thread count."""
    config.validate()
    if config.beam > 1:
        return beam_search(model, prime_ids, config.length, config.beam, device)
    out: list[int] = []
    for token_id in sample_stream(model, prime_ids, config, device, stop_id, threads):
        out.append(token_id)
        if on_token is not None:
            on_token(token_id)
    return out


def sample_stream(model, prime_ids: list[int], config: SamplingConfig, device, stop_id: int | None = None,
                  threads: ThreadTuner | None = None) -> Iterator[int]:
    """The token ids continuing the prime, one at a time as they are drawn (no beam search: its
    tokens are known only at the end). Stops after `config.length` tokens or at `stop_id`."""
    config.validate()
    generator = None
    if config.seed is not None:
        generator = torch.Generator(device=device).manual_seed(config.seed)
    with torch.no_grad():
        logits, state = prime(model, prime_ids, device)
    for step in range(config.length):
        with torch.no_grad():
            token = choose(logits.float(), config, generator)
        token_id = int(token)
        yield token_id
        if (stop_id is not None and token_id == stop_id) or step + 1 == config.length:
            return
        with torch.no_grad(), timed(threads):
            logits, state = model.step_logits(token.view(1, 1), state)


@torch.no_grad()
def beam_search(model, prime_ids: list[int], length: int, beam: int, device) -> list[int]:
    """The most probable continuation of `length` tokens found by a beam of the given width."""
    logits, state = prime(model, prime_ids, device)
    scores = logits.log_softmax(-1)[0]                        # (vocab,)
    top = scores.topk(min(beam, scores.numel()))
    sequences = [[int(i)] for i in top.indices]
    totals = top.values                                       # (beam,)
    state = select_state(state, torch.zeros(len(sequences), dtype=torch.long, device=device))
    for _ in range(length - 1):
        last = torch.tensor([s[-1] for s in sequences], device=device).view(1, -1)   # (time=1, beam)
        logits, state = model.step_logits(last, state)
        candidates = totals[:, None] + logits.log_softmax(-1)   # (beam, vocab)
        flat = candidates.view(-1).topk(min(beam, candidates.numel()))
        origin = flat.indices // candidates.size(1)
        token = flat.indices % candidates.size(1)
        sequences = [sequences[o] + [int(t)] for o, t in zip(origin.tolist(), token.tolist())]
        totals = flat.values
        state = select_state(state, origin)
    return sequences[0]

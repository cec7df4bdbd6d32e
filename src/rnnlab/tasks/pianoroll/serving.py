"""Piano-roll runs served live: a client plays a chord (a list of MIDI pitches), the model answers
with the next one.

The frame after a chord is drawn from the model's head (independent keys, or key by key for
RNN-NADE), so the engine's "params" for these models are the last hidden state rather than
logits; `FrameStep` gives the engine that view of the model.
"""

from __future__ import annotations

import torch

from rnnlab.generate.sampling import SamplingConfig
from rnnlab.serve.protocol import InputError, ServedModel
from rnnlab.tasks.music.midi import KEYS, LOWEST_KEY, pitch_name

HIGHEST = LOWEST_KEY + KEYS - 1
GREEDY_TEMPERATURE = 1e-4      # greedy: every key on exactly when the model finds it more likely than not


class FrameStep:
    """A PianorollModel as the engine steps it: (inputs, state) -> (last hidden (batch, hidden), state)."""

    def __init__(self, model):
        self.model = model

    def initial_state(self, batch_size: int):
        return self.model.initial_state(batch_size)

    @torch.no_grad()
    def step_logits(self, inputs: torch.Tensor, state):
        _, dropped, state = self.model.hidden(inputs, state)
        return dropped[-1], state


class FrameModel(ServedModel):
    """Piano-roll runs: inputs are chords (lists of pitches 21..108, [] a rest); a step gives the next chord."""

    kind = "frames"

    def __init__(self, name: str, trained):
        super().__init__(name, trained)
        self.network = trained.model
        self.model = FrameStep(trained.model)

    def describe(self) -> dict:
        info = super().describe()
        info.update(steps_per_beat=self.trained.tokenizer.steps_per_beat, keys=f"{LOWEST_KEY}..{HIGHEST}",
                    input="a chord: a list of MIDI pitches (21..108; [] is a rest), or a list of chords",
                    output="pitches, names")
        return info

    def encode(self, value, limit: int) -> tuple[torch.Tensor, list[str]]:
        """Model input (time, 1, keys + 1) from one chord or a list of chords."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            raise InputError("input must be a chord (a list of MIDI pitches, [] for a rest) or a list of chords")
        chords = value if value and all(isinstance(v, list) for v in value) else [value]
        if len(chords) > limit:
            raise InputError(f"input has {len(chords)} chords; at most {limit} per request")
        frames = torch.zeros(len(chords), 1, KEYS + 1, device=self.device)
        for t, chord in enumerate(chords):
            for pitch in chord:
                if isinstance(pitch, bool) or not isinstance(pitch, int) or not LOWEST_KEY <= pitch <= HIGHEST:
                    raise InputError(f"a chord holds MIDI pitches from {LOWEST_KEY} to {HIGHEST} (the piano's "
                                     f"keys), got {str(pitch)[:20]}")
                frames[t, 0, pitch - LOWEST_KEY] = 1.0
        return frames, []

    def start(self) -> torch.Tensor:
        """The frame that starts a piece: no key, the piece-start column set, as `rnnlab generate` does."""
        frame = torch.zeros(1, 1, KEYS + 1, device=self.device)
        frame[0, 0, KEYS] = 1.0
        return frame

    def sample(self, params: torch.Tensor, settings: SamplingConfig, generator) -> torch.Tensor:
        temperature = GREEDY_TEMPERATURE if settings.greedy else settings.temperature
        return self.network.head.sample(params, temperature, settings.top_k, generator)     # (batch, keys)

    def feed(self, sampled: torch.Tensor) -> torch.Tensor:
        return torch.cat([sampled.view(1, -1), sampled.new_zeros(1, 1)], dim=1).view(1, 1, KEYS + 1)

    def decode(self, sampled: torch.Tensor) -> dict:
        pitches = [LOWEST_KEY + int(k) for k in torch.nonzero(sampled.view(-1)).view(-1)]
        return {"pitches": pitches, "names": [pitch_name(p) for p in pitches]}

    @torch.no_grad()
    def generate(self, prime, config: SamplingConfig, limit: int) -> dict:
        """`config.length` chords after the prime's (or after a piece's start), from a fresh state."""
        inputs = self.start() if prime in (None, []) else self.encode(prime, limit)[0]
        generator = torch.Generator(device=self.device).manual_seed(config.seed) if config.seed is not None else None
        params, state = self.model.step_logits(inputs, self.model.initial_state(1))
        chords = []
        for _ in range(config.length):
            frame = self.sample(params, config, generator)
            chords.append(self.decode(frame)["pitches"])
            params, state = self.model.step_logits(self.feed(frame), state)
        return {"model": self.name, "chords": chords, "steps_per_beat": self.trained.tokenizer.steps_per_beat}

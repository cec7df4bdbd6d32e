"""Serving language models (text and MIDI events): text, token strings or ids in, a token out."""

from __future__ import annotations

import re

import torch

from rnnlab.data.tokenize import TextTokenizer
from rnnlab.generate.sampling import SamplingConfig, choose, sample
from rnnlab.serve.protocol import InputError, ServedModel
from rnnlab.tasks.language_model.generate import prime_tokens

NOTE_TOKEN = re.compile(r"^(?:Pitch|NOTE_ON|NoteOn|note_on)_(\d{1,3})$")


class TokenModel(ServedModel):
    """Text and event-token runs: inputs are text, token strings or ids; a step gives one token."""

    kind = "tokens"

    def __init__(self, name: str, trained):
        super().__init__(name, trained)
        self.vocab = trained.vocab
        self.is_text = isinstance(trained.tokenizer, TextTokenizer)

    def describe(self) -> dict:
        info = super().describe()
        info.update(vocabulary=len(self.vocab), level=self.trained.config.data.level if self.is_text else None,
                    input="text, a token string, a token id or a list of ids", output="id, token, text")
        return info

    def encode(self, value, limit: int) -> tuple[torch.Tensor, list[str]]:
        """Model input (time, 1) and the tokens the vocabulary lacks (read as <unk>)."""
        if isinstance(value, bool) or value is None:
            raise InputError("input must be text, a token id or a list of token ids")
        if isinstance(value, int):
            value = [value]
        if isinstance(value, list):
            if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise InputError("a list input must hold token ids (integers)")
            bad = [v for v in value if not 0 <= v < len(self.vocab)]
            if bad:
                raise InputError(f"token id {bad[0]} is outside the vocabulary (0..{len(self.vocab) - 1})")
            ids, unknown = value, []
        elif isinstance(value, str):
            if not value:
                raise InputError("input text is empty")
            tokens = self.split(value)
            unknown = self.vocab.unknown(tokens)
            ids = self.vocab.encode(tokens)
        else:
            raise InputError("input must be text, a token id or a list of token ids")
        if len(ids) > limit:
            raise InputError(f"input has {len(ids)} tokens; at most {limit} per request")
        return torch.tensor(ids, dtype=torch.long, device=self.device).view(-1, 1), unknown

    def split(self, text: str) -> list[str]:
        if self.is_text:
            tokens = self.trained.tokenizer.split(text)
            if tokens and tokens[-1] == "<eos>" and not text.endswith("\n"):
                tokens.pop()
            return tokens or [text]
        return text.split()                     # event tokens: names separated by spaces

    def start(self) -> torch.Tensor:
        """What to feed before anything was given: the start of a line, as `rnnlab generate` does."""
        tokens = prime_tokens(self.trained.tokenizer, self.vocab, "") if self.is_text else ["<eos>"]
        ids = self.vocab.encode(tokens)
        return torch.tensor(ids, dtype=torch.long, device=self.device).view(-1, 1)

    def sample(self, params: torch.Tensor, settings: SamplingConfig, generator) -> torch.Tensor:
        return choose(params.float(), settings, generator)              # (batch,)

    def feed(self, sampled: torch.Tensor) -> torch.Tensor:
        return sampled.view(1, 1)

    def candidates(self, params: torch.Tensor, settings: SamplingConfig, k: int) -> list[dict]:
        """The k likeliest next tokens, most likely first, with their probabilities at the session's
        temperature (1 under greedy) before top_k / top_p trim the list."""
        logits = params.float().view(-1)
        if not settings.greedy:
            logits = logits / settings.temperature
        probs, ids = logits.softmax(-1).topk(min(k, logits.numel()))
        return [{"id": int(i), "token": self.vocab.tokens[int(i)], "text": self.piece(self.vocab.tokens[int(i)]),
                 "p": float(p)} for p, i in zip(probs.tolist(), ids.tolist())]

    def decode(self, sampled: torch.Tensor) -> dict:
        token_id = int(sampled.view(-1)[0])
        token = self.vocab.tokens[token_id]
        out = {"id": token_id, "token": token, "text": self.piece(token)}
        note = None if self.is_text else NOTE_TOKEN.match(token)
        if note:                      # MIDI events: the note a client should sound (REMI Pitch_60, NOTE_ON_60)
            out["pitch"] = int(note.group(1))
        return out

    def piece(self, token: str) -> str:
        """How the token reads when appended to a running text."""
        if not self.is_text:
            return token + " "
        if token == "<eos>":
            return "\n"
        return token + " " if self.trained.config.data.level == "word" else token

    def generate(self, prime, config: SamplingConfig, limit: int) -> dict:
        if prime in (None, "", []):
            ids, unknown = self.start().view(-1).tolist(), []
        else:
            inputs, unknown = self.encode(prime, limit)
            ids = inputs.view(-1).tolist()
        out = sample(self.model, ids, config, self.device)
        tokens = self.vocab.decode(out)
        text = self.trained.tokenizer.join(tokens) if self.is_text else " ".join(tokens)
        return {"model": self.name, "ids": out, "tokens": tokens, "text": text, "unknown": unknown}

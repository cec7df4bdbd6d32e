"""Text to tokens and back, and the one vocabulary format every modality shares.

Levels: `char` (every character, newline included), `word` (whitespace split, one `<eos>` per
line as in the PTB protocol) and `ja` (MeCab morphemes through fugashi + unidic-lite, one
`<eos>` per line). The tokeniser's settings are saved beside the vocabulary so that a loaded
model decodes exactly as it encoded.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

from rnnlab.errors import RnnlabError

UNK = "<unk>"
EOS = "<eos>"


class Vocabulary:
    """An ordered list of token strings; id = position. `<unk>` always present."""

    def __init__(self, tokens: list[str]):
        if len(set(tokens)) != len(tokens):
            raise RnnlabError("vocabulary holds duplicate tokens")
        self.tokens = list(tokens)
        self.index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, tokens: Iterable[str], specials: list[str], min_freq: int = 1,
              max_vocab: int = 0) -> "Vocabulary":
        """Specials first, then types by falling frequency (ties by text); rare types dropped."""
        counts = Counter(tokens)
        kept = [t for t, c in sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))
                if c >= min_freq and t not in specials]
        if max_vocab:
            kept = kept[:max(0, max_vocab - len(specials))]
        return cls(list(specials) + kept)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def unk_id(self) -> int:
        return self.index[UNK]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        unk, index = self.unk_id, self.index
        return [index.get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """The tokens (in order, once each) that this vocabulary does not hold."""
        seen: dict[str, None] = {}
        for t in tokens:
            if t not in self.index:
                seen.setdefault(t)
        return list(seen)


@dataclass
class TokenizerConfig:
    """Saved with the vocabulary; enough to rebuild the exact tokeniser."""

    level: str = "char"
    lowercase: bool = False


class TextTokenizer:
    """Splits text into tokens at one level and joins tokens back into text."""

    def __init__(self, config: TokenizerConfig):
        if config.level not in ("char", "word", "ja"):
            raise RnnlabError(f"unknown token level {config.level!r}; choose char, word or ja")
        self.config = config

    @property
    def specials(self) -> list[str]:
        return [UNK] if self.config.level == "char" else [UNK, EOS]

    @cached_property
    def _tagger(self):
        try:
            import fugashi
        except ImportError:
            raise RnnlabError("--level ja needs MeCab through fugashi: pip install 'rnnlab[ja]'") from None
        try:
            return fugashi.Tagger()
        except Exception as err:  # fugashi reports a missing dictionary with RuntimeError
            raise RnnlabError(f"MeCab could not start ({err}); pip install unidic-lite") from None

    def split(self, text: str) -> list[str]:
        if self.config.lowercase:
            text = text.lower()
        level = self.config.level
        if level == "char":
            return list(text)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        tokens: list[str] = []
        for line in lines:
            if level == "word":
                tokens.extend(line.split())
            else:
                tokens.extend(word.surface for word in self._tagger(line) if word.surface.strip())
            tokens.append(EOS)
        return tokens

    def join(self, tokens: list[str]) -> str:
        """Tokens back to text: characters as they are; words and morphemes joined (by a space for
        words) within a line, <eos> a line break."""
        pieces, previous = [], None
        for token in tokens:
            pieces.append(self.piece(token, previous))
            previous = token
        return "".join(pieces)

    def piece(self, token: str, previous: str | None) -> str:
        """What `token` adds to the text when it follows `previous` (None: it comes first), so that
        text can be written as it is generated."""
        if self.config.level == "char":
            return token
        if token == EOS:
            return "\n"
        sep = " " if self.config.level == "word" and previous is not None and previous != EOS else ""
        return sep + token


def save_vocabulary(path: Path, vocab: Vocabulary, tokenizer: TokenizerConfig, extra: dict | None = None) -> None:
    payload = {"format": "rnnlab-vocab-1", "tokenizer": asdict(tokenizer), "tokens": vocab.tokens}
    if extra:
        payload.update(extra)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=0), encoding="utf-8")


def load_vocabulary(path: Path) -> tuple[Vocabulary, dict]:
    """The vocabulary and the raw payload (tokenizer settings and anything a modality added)."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        tokens = payload["tokens"]
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise TypeError("tokens is not a list of strings")
        return Vocabulary(tokens), payload
    except FileNotFoundError:
        raise RnnlabError(f"{path}: missing; this run directory has no vocabulary") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RnnlabError(f"{path}: not a valid rnnlab vocabulary file") from None

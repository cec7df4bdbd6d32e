"""Small synthetic pair tasks the seq2seq tests train on in seconds (imported by the tests)."""

from __future__ import annotations

import random


def reversal_pairs(count: int, seed: int = 0, letters: str = "abcdef") -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(2, 5)))
        pairs.append((word, word[::-1]))
    return pairs

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


MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]


def date_pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`september 27` -> `09-27`: a small cousin of the book's date task."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        month, day = rng.randrange(12), rng.randint(1, 28)
        pairs.append((f"{MONTHS[month]} {day}", f"{month + 1:02d}-{day:02d}"))
    return pairs

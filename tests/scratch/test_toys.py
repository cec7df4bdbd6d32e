"""The seed notes' toy tasks reach their accuracy with the NumPy engine."""

from __future__ import annotations

import numpy as np

from rnnlab.cli import main
from rnnlab.scratch import toys

QUIET = lambda *_: None   # noqa: E731


def test_the_language_has_100_words_and_the_place_follows_the_subject():
    assert len(toys.WORDS) == len(set(toys.WORDS)) == 100
    words = toys.sentence(np.random.default_rng(0))
    assert len(words) == len(toys.BEST_GUESS) == 12
    assert toys.PLACES.index(words[toys.PLACE_SLOT]) == toys.SUBJECTS.index(words[2])


def test_multi_hot_window_marks_the_four_previous_words():
    hot = toys.windows_multi_hot(np.array([5, 6, 7, 8, 9, 10]))
    assert hot.shape == (6, 100)
    assert np.flatnonzero(hot[4]).tolist() == [5, 6, 7, 8] and np.flatnonzero(hot[5]).tolist() == [6, 7, 8, 9]
    assert hot[0].sum() == 0


def test_next_word_memory_finds_the_place_outside_the_window():
    result = toys.next_word(seed=0, cell="rnn", epochs=4, log=QUIET)
    assert result.detail["place_accuracy"] > 0.5 > 8 * result.detail["place_chance"]
    assert result.accuracy > 0.25 and result.accuracy <= result.detail["ceiling"] + 0.02


def test_binary_addition_is_learned():
    result = toys.addition(seed=1, steps=1500, log=QUIET)
    assert result.accuracy > 0.95 and result.detail["bit_accuracy"] > 0.99


def test_cli_toy_prints_its_accuracy(capsys):
    assert main(["toy", "addition", "--epochs", "2", "--quiet"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("addition (rnn, 8-bit, hidden 16): exact sums") and "% of 1,000 new pairs" in line
    assert main(["toy", "next-word", "--epochs", "1", "--quiet", "--cell", "gru"]) == 0
    assert "on the place word" in capsys.readouterr().out
    assert main(["toy", "addition", "--epochs", "0"]) == 2

"""The seed notes' toy tasks, trained with the NumPy engine.

next-word (seed 000): a text of 100 distinct words; at each step the net sees the last four words
as one 100-dim multi-hot vector, joined with its 100-dim memory (200 inputs in all, one affine map,
tanh) and predicts the next word. Sentences are built so that the last word is decided by the
subject nine words earlier, outside the four-word window: only the memory can supply it.

addition (seed 001's exercise, 3_1_simple_RNN): a simple RNN adds two 8-bit numbers bit by bit,
least significant first; each step reads (a_t, b_t) and writes the sum bit, carrying in its state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.scratch.cells import make_cell
from rnnlab.scratch.layers import Affine, SoftmaxWithLoss
from rnnlab.scratch.optim import Adam, clip_by_norm
from rnnlab.scratch.time_layers import TimeRecurrent

# ---- the 100-word language of the next-word task ---------------------------------------------
SUBJECTS = ["dog", "cat", "bird", "fish", "horse", "mouse", "cow", "frog", "bee", "duck",
            "goat", "sheep", "fox", "bear", "wolf", "owl", "crab", "seal", "deer", "hen"]
PLACES = ["kitchen", "garden", "sky", "river", "field", "hole", "barn", "pond", "hive", "lake",
          "hill", "meadow", "den", "cave", "forest", "tree", "beach", "sea", "wood", "yard"]
VERBS = ["runs", "sleeps", "sits", "eats", "plays", "waits", "hides", "sings", "rests", "stays",
         "jumps", "walks", "dreams", "looks", "lives", "works", "reads", "swims", "digs", "naps"]
ADJECTIVES = ["cute", "dirty", "wide", "nice", "small", "big", "old", "new", "quiet", "loud",
              "warm", "cold", "dark", "bright", "wet", "dry", "soft", "hard", "green", "red",
              "long", "short", "happy", "sad", "fast", "slow", "clean", "tall", "round", "deep"]
OTHERS = ["a", "the", "in", "on", "at", "near", "today", "again", "often", "."]
WORDS = SUBJECTS + PLACES + VERBS + ADJECTIVES + OTHERS            # 100 distinct words
WINDOW = 4
PLACE_SLOT = 10                                                    # index of the place in a sentence
# The chance of the best guess at each of the 12 slots of `sentence`: what a perfect predictor expects.
BEST_GUESS = [1 / 2, 1 / 30, 1 / 20, 1 / 20, 1 / 3, 1 / 4, 1, 1 / 29, 1 / 28, 1 / 27, 1, 1]


def sentence(rng: np.random.Generator) -> list[str]:
    """the ADJ SUBJ VERB ADV PREP the ADJ ADJ ADJ PLACE . (11 words); PLACE belongs to SUBJ."""
    subject = int(rng.integers(len(SUBJECTS)))
    adjectives = rng.choice(ADJECTIVES, 4, replace=False)
    return [str(rng.choice(["a", "the"])), adjectives[0], SUBJECTS[subject], str(rng.choice(VERBS)),
            str(rng.choice(["today", "again", "often"])), str(rng.choice(["in", "on", "at", "near"])),
            "the", adjectives[1], adjectives[2], adjectives[3], PLACES[subject], "."]


def word_stream(sentences: int, rng: np.random.Generator) -> np.ndarray:
    """Word ids of many sentences in a row, and where each place word stands."""
    index = {w: i for i, w in enumerate(WORDS)}
    return np.array([index[w] for _ in range(sentences) for w in sentence(rng)])


def windows_multi_hot(ids: np.ndarray) -> np.ndarray:
    """(steps, 100): row t has a 1 at each of the ids t-4 .. t-1 (the seed's step 4)."""
    hot = np.zeros((len(ids), len(WORDS)), np.float32)
    for back in range(1, WINDOW + 1):
        hot[np.arange(back, len(ids)), ids[:-back]] = 1.0
    return hot


@dataclass
class ToyResult:
    accuracy: float
    detail: dict


class Classifier:
    """TimeRecurrent -> Affine -> SoftmaxWithLoss, trained with Adam and norm clipping."""

    def __init__(self, cell: str, inputs: int, hidden: int, classes: int, rng, stateful: bool, lr: float):
        self.recurrent = TimeRecurrent(make_cell(cell, inputs, hidden, rng), stateful)
        self.readout = Affine(hidden, classes, rng)
        self.loss = SoftmaxWithLoss()
        self.params = {**{f"rnn.{k}": v for k, v in self.recurrent.params.items()},
                       **{f"out.{k}": v for k, v in self.readout.params.items()}}
        self.grads = {**{f"rnn.{k}": v for k, v in self.recurrent.grads.items()},
                      **{f"out.{k}": v for k, v in self.readout.grads.items()}}
        self.optimizer = Adam(lr)

    def scores(self, xs: np.ndarray) -> np.ndarray:
        """xs (time, batch, inputs) -> (time, batch, classes)."""
        return self.readout.forward(self.recurrent.forward(xs))

    def train_step(self, xs: np.ndarray, targets: np.ndarray, clip: float = 5.0) -> float:
        scores = self.scores(xs)
        loss = self.loss.forward(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))
        d = self.loss.backward(1.0 / targets.size).reshape(scores.shape)
        self.recurrent.backward(self.readout.backward(d))
        clip_by_norm(self.grads, clip)
        self.optimizer.update(self.params, self.grads)
        return loss / targets.size


def next_word(seed: int = 0, cell: str = "rnn", epochs: int = 10, log=print) -> ToyResult:
    """Train on 2,000 sentences (20 parallel streams, 12-step windows), test on 200 fresh ones."""
    rng = np.random.default_rng(seed)
    streams, words_per_stream = 20, 100 * len(sentence(rng))
    train_ids = word_stream(streams * 100, rng).reshape(streams, words_per_stream).T       # (time, batch)
    test_ids = word_stream(200, rng)
    model = Classifier(cell, len(WORDS), len(WORDS), len(WORDS), rng, stateful=True, lr=0.01)
    inputs = np.stack([windows_multi_hot(train_ids[:, b]) for b in range(streams)], axis=1)   # (time, batch, 100)
    for epoch in range(1, epochs + 1):
        model.recurrent.reset_state()
        losses = [model.train_step(inputs[s:s + 12], train_ids[s:s + 12])
                  for s in range(WINDOW, words_per_stream - 12, 12)]
        log(f"epoch {epoch}: loss {np.mean(losses):.3f}")
    model.recurrent.reset_state()
    predicted = model.scores(windows_multi_hot(test_ids)[:, None, :])[:, 0].argmax(axis=1)
    positions = np.arange(WINDOW, len(test_ids))                     # a full window behind each
    right = predicted[positions] == test_ids[positions]
    places = positions[positions % 12 == PLACE_SLOT]
    return ToyResult(float(right.mean()), {
        "place_accuracy": float((predicted[places] == test_ids[places]).mean()),
        "place_chance": 1 / len(PLACES), "test_words": int(len(positions)),
        "ceiling": float(np.mean([BEST_GUESS[p % 12] for p in positions]))})


def addition(seed: int = 1, cell: str = "rnn", steps: int = 3000, bits: int = 8, log=print) -> ToyResult:
    """Learn a + b bit by bit on random pairs (sums below 2^bits); exact-sum accuracy on 1,000 new pairs."""
    rng = np.random.default_rng(seed)
    model = Classifier(cell, 2, 16, 2, rng, stateful=False, lr=0.01)      # hidden 16 as in the exercise

    def batch(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = rng.integers(0, 2 ** (bits - 1), (2, size))
        place = 2 ** np.arange(bits)                                          # least significant first
        to_bits = lambda n: (n[None, :] // place[:, None]) % 2               # noqa: E731  (time, batch)
        return np.stack([to_bits(a), to_bits(b)], -1).astype(np.float32), to_bits(a + b), a + b

    for step in range(1, steps + 1):
        xs, targets, _ = batch(32)
        loss = model.train_step(xs, targets)
        if step % 500 == 0:
            log(f"step {step}: loss {loss:.4f}")
    xs, targets, sums = batch(1000)
    bits_out = model.scores(xs).argmax(axis=2)                                 # (time, batch)
    exact = (bits_out == targets).all(axis=0)
    return ToyResult(float(exact.mean()), {"bit_accuracy": float((bits_out == targets).mean()),
                                           "example": _example(xs, bits_out, sums)})


def _example(xs: np.ndarray, bits_out: np.ndarray, sums: np.ndarray) -> str:
    place = 2 ** np.arange(xs.shape[0])
    a, b = (xs[:, 0, 0] * place).sum(), (xs[:, 0, 1] * place).sum()
    return f"{int(a)} + {int(b)} = {int((bits_out[:, 0] * place).sum())} (true {int(sums[0])})"

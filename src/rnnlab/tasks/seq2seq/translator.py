"""A trained seq2seq model in Python: translate sources (greedy or beam search), with scores."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnlab.errors import RnnlabError
from rnnlab.tasks.trained import TrainedModel


@dataclass
class Decoding:
    """How sources are decoded: greedy (beam 0), or beam search keeping `n_best` hypotheses."""

    beam: int = 0
    length_penalty: float = 0.0
    n_best: int = 1
    max_length: int = 0                 # output tokens at most (0: from the training data)

    def validate(self) -> None:
        """Every problem with these settings in one message."""
        problems = []
        if self.beam < 0:
            problems.append("--beam must be 0 (greedy) or a width of at least 1")
        if not (math.isfinite(self.length_penalty) and self.length_penalty >= 0):
            problems.append("--length-penalty must be a number of at least 0")
        if self.n_best < 1:
            problems.append("--n-best must be at least 1")
        if self.n_best > max(self.beam, 1):
            problems.append("--n-best cannot exceed --beam (greedy decoding finds one hypothesis)")
        if self.max_length < 0:
            problems.append("--max-length must be 0 (from the training data) or positive")
        if problems:
            raise RnnlabError("; ".join(problems))


@dataclass
class Translation:
    """One source decoded: its hypotheses best first, as text, with their scores."""

    source: str
    texts: list[str]
    scores: list[float]                 # log-probability over the length penalty: what beam search ranks by
    log_probs: list[float]
    source_tokens: list[str]
    unknown: list[str]                  # source tokens the vocabulary lacks, read as <unk>
    hypotheses: list                    # the decoder's Hypothesis objects (tokens, attention weights)

    @property
    def text(self) -> str:
        return self.texts[0]


class Translator(TrainedModel):
    """An encoder-decoder (seq2seq) model: dates, addition, English to Japanese, ...

    >>> rnnlab.load(run_path).translate("September 27, 1994", beam=5)     # doctest: +SKIP
    '1994-09-27'
    """

    verbs = ("translate", "evaluate")
    kind = "seq2seq model"

    def translate(self, texts: str | list[str], beam: int = 0, length_penalty: float = 0.0,
                  max_length: int = 0) -> str | list[str]:
        """The best translation of each source: a string for a string, a list for a list."""
        single = isinstance(texts, str)
        found = self.translations([texts] if single else texts, Decoding(beam, length_penalty, 1, max_length))
        return found[0].text if single else [t.text for t in found]

    def translations(self, texts: list[str], decoding: Decoding | None = None) -> list[Translation]:
        """Every source decoded with its n-best hypotheses and scores."""
        from rnnlab.tasks.seq2seq.translate import output_text, translate_many

        decoding = decoding or Decoding()
        decoding.validate()
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise RnnlabError("translate takes a string or a list of strings")
        for number, text in enumerate(texts, 1):
            if not text.strip():
                raise RnnlabError(f"text {number} is empty: give each source as a non-empty string")
        opened = self._opened
        results = translate_many(opened, list(texts), decoding.beam, decoding.length_penalty, decoding.n_best,
                                 decoding.max_length)
        return [Translation(text, [output_text(opened, h.tokens) for h in hypotheses],
                            [h.score for h in hypotheses], [h.log_prob for h in hypotheses], tokens,
                            opened.vocabs.source.unknown(tokens), hypotheses)
                for text, (hypotheses, tokens) in zip(texts, results)]

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1, beam: int = 0,
                 length_penalty: float = 0.0) -> dict:
        """Exact match, BLEU and perplexity on a split of the pairs (or a file of pairs)."""
        from rnnlab.tasks.seq2seq.evaluate import evaluate_pair_run

        Decoding(beam, length_penalty).validate()
        return evaluate_pair_run(self._opened, split, data, beam, length_penalty)

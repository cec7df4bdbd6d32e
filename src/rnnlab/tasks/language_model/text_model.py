"""A trained language model in Python: generate text, stream it as it is sampled, score text."""

from __future__ import annotations

from typing import Iterator

from rnnlab.errors import RnnlabError
from rnnlab.generate.sampling import SamplingConfig, sampling_with
from rnnlab.tasks.trained import TrainedModel


class TextModel(TrainedModel):
    """A language model of text (characters, words or Japanese morphemes).

    >>> model = rnnlab.load(run_path)                                      # doctest: +SKIP
    >>> text = model.generate("ROMEO:", length=100, temperature=0.8, seed=1)  # doctest: +SKIP
    >>> for piece in model.stream("ROMEO:", length=20): print(piece, end="")  # doctest: +SKIP
    >>> model.perplexity("To be, or not to be")                            # doctest: +SKIP
    """

    verbs = ("generate", "stream", "perplexity", "evaluate")
    kind = "text model"

    def stream(self, prime: str = "", length: int | None = None, temperature: float | None = None,
               top_k: int | None = None, top_p: float | None = None, greedy: bool | None = None,
               seed: int | None = None, *, beam: int | None = None, precision: str = "fp32",
               sampling: SamplingConfig | None = None, note=None) -> Iterator[str]:
        """The prime, then the sampled continuation piece by piece as it is drawn (a generator).
        Settings not given come from `sampling` or the defaults (200 tokens, temperature 1)."""
        from rnnlab.tasks.language_model.generate import text_pieces

        config = sampling_with(sampling, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                                 greedy=greedy, seed=seed, beam=beam)
        return text_pieces(self._opened, prime, config, precision, note or self._note)

    def generate(self, prime: str = "", length: int | None = None, temperature: float | None = None,
                 top_k: int | None = None, top_p: float | None = None, greedy: bool | None = None,
                 seed: int | None = None, *, beam: int | None = None, precision: str = "fp32",
                 sampling: SamplingConfig | None = None) -> str:
        """The prime followed by `length` sampled tokens, as text; the same seed gives the same text."""
        return "".join(self.stream(prime, length, temperature, top_k, top_p, greedy, seed, beam=beam,
                                   precision=precision, sampling=sampling))

    def perplexity(self, text: str, batch_size: int = 1) -> float:
        """Perplexity of `text` under the model, the state carried across the whole text."""
        from rnnlab.tasks.language_model.evaluate import evaluate_text

        if not isinstance(text, str):
            raise RnnlabError(f"perplexity takes a string of text, not {type(text).__name__}")
        return evaluate_text(self._opened, text, "text", batch_size)["perplexity"]

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1) -> dict:
        """Perplexity and NLL on a split of the run's corpus, or on a text file (`data`)."""
        from rnnlab.tasks.language_model.evaluate import evaluate_run

        return evaluate_run(self._opened, split, data, batch_size)

    def _note(self, line: str) -> None:
        import logging
        logging.getLogger("rnnlab").warning(line.removeprefix("note: "))

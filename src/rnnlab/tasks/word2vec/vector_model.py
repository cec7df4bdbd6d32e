"""Trained word vectors in Python: nearest words and analogies."""

from __future__ import annotations

from rnnlab.errors import RnnlabError
from rnnlab.tasks.trained import TrainedModel


class WordVectorModel(TrainedModel):
    """Word vectors (CBOW or skip-gram) trained by `rnnlab word2vec`.

    >>> vectors = rnnlab.load(run_path)                     # doctest: +SKIP
    >>> vectors.similar("king", top=5); vectors.analogy("king", "man", "woman")   # doctest: +SKIP
    """

    verbs = ("similar", "analogy", "evaluate")
    kind = "word2vec model"

    @property
    def vectors(self):
        """The WordVectors: `words` and a (words, dim) array of unit vectors."""
        return self._opened.vectors

    def similar(self, word: str, top: int = 10) -> list[tuple[str, float]]:
        """The `top` nearest words by cosine similarity, with it."""
        if top < 1:
            raise RnnlabError("top must be at least 1")
        return self.vectors.most_similar(word, top)

    def analogy(self, a: str, b: str, c: str, top: int = 5) -> list[tuple[str, float]]:
        """a - b + c (3CosAdd): analogy("king", "man", "woman") -> queen first."""
        if top < 1:
            raise RnnlabError("top must be at least 1")
        return self.vectors.analogy(a, b, c, top)

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1,
                 restrict_vocab: int = 30000, case_insensitive: bool = True) -> dict:
        """Accuracy on an analogy file (`data`, questions-words.txt format)."""
        from rnnlab.tasks.word2vec.train import evaluate_analogies_run

        if not data:
            raise RnnlabError(f"{self.path}: word vectors are evaluated on an analogy file: evaluate(data=FILE)")
        return evaluate_analogies_run(self.path, data, restrict_vocab, case_insensitive)

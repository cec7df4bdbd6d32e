"""A trained dialogue model in Python: a response to the last few utterances."""

from __future__ import annotations

from rnnlab.errors import RnnlabError
from rnnlab.tasks.trained import TrainedModel


class ChatModel(TrainedModel):
    """A response generator (seq2seq, HRED or VHRED) trained on conversations.

    >>> rnnlab.load(run_path).respond(["こんにちは"], seed=1)        # doctest: +SKIP
    """

    verbs = ("respond", "evaluate")
    kind = "dialogue model"

    def respond(self, context: str | list[str], samples: int = 1, temperature: float = 0.8, top_k: int = 20,
                greedy: bool = False, seed: int | None = None) -> str | list[str]:
        """A response to `context` (the utterances so far, oldest first); `samples` > 1: a list of them."""
        from rnnlab.tasks.dialogue.respond import respond

        context = [context] if isinstance(context, str) else list(context)
        if not context or not all(isinstance(u, str) for u in context):
            raise RnnlabError("respond takes an utterance or a list of utterances (oldest first)")
        if samples < 1:
            raise RnnlabError("samples must be at least 1")
        if not temperature > 0 or top_k < 0:
            raise RnnlabError("temperature must be positive and top_k not negative")
        responses = respond(self._opened, [context], samples, temperature, top_k, greedy, seed)[0]
        return responses[0] if samples == 1 else responses

    def evaluate(self, split: str = "test", data: str | None = None, batch_size: int = 1) -> dict:
        """Response perplexity on a split of the conversations."""
        from rnnlab.tasks.dialogue.train import evaluate_dialogue_run

        if data is not None:
            raise RnnlabError("a dialogue model is evaluated on a split of its corpus, not a file")
        return evaluate_dialogue_run(self._opened, split)

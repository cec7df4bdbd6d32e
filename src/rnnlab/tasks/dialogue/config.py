"""The dialogue task's own settings (config.json's "dialogue" section)."""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.options import TaskSettings, option


@dataclass
class DialogueConfig(TaskSettings):
    """Response generation (--task dialogue); sizes and dropout come from ModelConfig."""

    section = "dialogue"

    model: str = option("hred", "seq2seq (context joined into one sequence), hred (utterance encoder + "
                        "context RNN) or vhred (hred + a latent variable per response)", ("seq2seq", "hred", "vhred"))
    context_size: int = option(3, "utterances of context before each response")
    utterance_length: int = option(30, "tokens kept per utterance (longer ones are cut)")
    latent: int = option(64, "vhred: size of the latent variable")
    kl_anneal_steps: int = option(3000, "vhred: steps over which the KL weight rises from 0 to 1")
    word_dropout: float = option(0.25, "vhred: decoder inputs replaced by <unk> with this probability")

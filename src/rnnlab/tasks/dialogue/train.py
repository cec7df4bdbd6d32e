"""What a response generator (flat seq2seq, HRED, VHRED) learns in the one training loop, and scoring it.

VHRED's KL weight rises linearly from 0 to 1 over --kl-anneal-steps. Under torchrun each process
takes its own share of every epoch's batches (`deal`), the sums are over every process, and rank 0
alone scores the validation responses and hands its record to the others.
"""

from __future__ import annotations

import math
import random

import torch

from rnnlab.config import RunConfig
from rnnlab.tasks.dialogue.config import DialogueConfig
from rnnlab.tasks.dialogue.data import (DialogueExamples, build_dialogue_vocabulary, make_dialogue_batch, make_examples,
                                  read_dialogue_splits, tokenise_dialogues)
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, Vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.tasks.dialogue.model import DialogueModel
from rnnlab.tasks.seq2seq.train import PAIR_CELLS
from rnnlab.train.distributed import (Placement, broadcast_object, check_shares, deal, epoch_total,
                                      summed_over_ranks)
from rnnlab.train.loop import Progress, StepResult


def dialogue_batches(examples: DialogueExamples, batch_size: int, vocab: Vocabulary, seed: int | None = None,
                     which: range | None = None):
    """Batches of `batch_size` examples, shuffled when a seed is given; `which`: only those batches
    (indices into all of them), the others not built."""
    order = list(range(len(examples.responses)))
    if seed is not None:
        random.Random(seed).shuffle(order)
    starts = range(0, len(order), batch_size)
    for k in which if which is not None else range(len(starts)):
        chosen = order[starts[k]:starts[k] + batch_size]
        yield make_dialogue_batch([examples.contexts[i] for i in chosen], [examples.responses[i] for i in chosen], vocab)


@torch.no_grad()
def score_dialogue(model: DialogueModel, examples: DialogueExamples, vocab: Vocabulary, device, batch_size=256) -> dict:
    """Response perplexity (teacher forced; VHRED: z = the posterior mean) and, for VHRED, KL and bound."""
    was_training = model.training
    model.eval()
    nll = kl = 0.0
    tokens = 0
    for batch in dialogue_batches(examples, batch_size, vocab):
        b = batch.to(device)
        condition, batch_kl = model.condition(b, with_response=True, sample=False)
        logits, _ = model.decode(b.response_in, condition, model.initial_state(condition))
        nll += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(2)), b.response_out.reshape(-1),
                                                       ignore_index=0, reduction="sum"))
        kl += float(batch_kl.sum())
        tokens += int((b.response_out != 0).sum())
    model.train(was_training)
    result = {"nll": nll / tokens, "perplexity": math.exp(min(nll / tokens, 700)), "tokens": tokens,
              "responses": len(examples.responses)}
    if model.kind == "vhred":
        # The reconstruction term reads z from the posterior, which has seen the response: only the
        # bound (reconstruction + KL) compares with the other models' perplexity.
        result.update({"reconstruction_perplexity": result["perplexity"], "kl_per_response": kl / len(examples.responses),
                       "bound_perplexity": math.exp(min((nll + kl) / tokens, 700)), "nll": (nll + kl) / tokens})
        result["perplexity"] = result["bound_perplexity"]
    return result


def prepare_dialogues(config: RunConfig, dialogue: DialogueConfig, vocab: Vocabulary | None = None):
    if config.model.cell not in PAIR_CELLS:
        raise RnnlabError(f"--task dialogue has no {config.model.cell} model; --cell is one of: {', '.join(PAIR_CELLS)}")
    tokenizer = TextTokenizer(TokenizerConfig(level=config.data.level, lowercase=config.data.lowercase))
    raw = read_dialogue_splits(config.data.corpus)
    tokens = {split: tokenise_dialogues(dialogues, tokenizer) for split, dialogues in raw.items()}
    vocab = vocab or build_dialogue_vocabulary(tokens["train"], config.data.min_freq, config.data.max_vocab)
    examples = {split: make_examples(tokens[split], vocab, dialogue.context_size, dialogue.utterance_length,
                                     raw[split] if split != "train" else None) for split in tokens}
    for split, found in examples.items():
        if not found.responses:
            raise RnnlabError(f"{config.data.corpus}: the {split} split has no response with "
                              f"{dialogue.context_size} utterances of context")
    return tokenizer, vocab, examples


def build_dialogue_model(config: RunConfig, dialogue: DialogueConfig, vocab: Vocabulary) -> DialogueModel:
    return DialogueModel(config.model, dialogue, len(vocab), vocab.unk_id)


def kl_weight(dialogue: DialogueConfig, step: int) -> float:
    """VHRED's KL weight after `step` updates: from 0 up to 1 over --kl-anneal-steps (0 for the others)."""
    return min(1.0, step / max(dialogue.kl_anneal_steps, 1)) if dialogue.model == "vhred" else 0.0


class DialogueObjective:
    """Response NLL given the context (plus VHRED's annealed KL); each epoch every example once, in
    an order drawn from seed and epoch. Validation: response perplexity (VHRED: the bound)."""

    unit = "perplexity"
    chooses_best = True
    curves = [("valid_ppl", "perplexity", 1.0)]

    def __init__(self, config: RunConfig, examples: dict, vocab: Vocabulary, placement: Placement):
        self.placement, self.config, self.examples, self.vocab = placement, config, examples, vocab
        self.device = placement.device
        self.dialogue = DialogueConfig.of(config)
        # Under torchrun batch i of the epoch's order is rank i % world_size's, the tail that does not
        # divide left out: `position` counts this rank's batches, the same number on every rank.
        self.total = math.ceil(len(examples["train"].responses) / config.train.batch_size)
        check_shares(self.total, config.train.batch_size, self.placement)

    def batches(self, epoch: int, position: int):
        c = self.config.train
        mine = deal(self.total, self.placement)[position:]
        batches = dialogue_batches(self.examples["train"], c.batch_size, self.vocab, seed=c.seed * 1000 + epoch,
                                   which=mine)
        yield from enumerate(batches, position + 1)

    def count(self, epoch: int, position: int) -> tuple[int, int]:
        return len(deal(self.total, self.placement)), position

    def step(self, model, batch, carry, step: int) -> StepResult:
        out = model(batch.to(self.device))
        loss = (out.nll_sum + kl_weight(self.dialogue, step) * out.kl_sum) / out.tokens
        sums = {"nll": out.nll_sum.item(), "tokens": out.tokens, "kl": out.kl_sum.item()}
        return StepResult(loss, sums["nll"], out.tokens,
                          extra={"kl": sums["kl"], **summed_over_ranks(sums, self.placement)})

    def validate(self, model) -> dict:
        return broadcast_object(self.score_valid(model) if self.placement.is_main else None, self.placement)

    def score_valid(self, model) -> dict:
        valid = score_dialogue(model, self.examples["valid"], self.vocab, self.device)
        record = {"valid_loss": valid["nll"], "valid_ppl": valid["perplexity"]}
        if "kl_per_response" in valid:
            record.update(valid_kl_per_response=valid["kl_per_response"], valid_bound_ppl=valid["bound_perplexity"],
                          valid_reconstruction_ppl=valid["reconstruction_perplexity"])
        return record

    def train_fields(self, progress: Progress) -> dict:
        tokens = max(epoch_total(progress, "tokens"), 1)
        fields = {"train_loss": epoch_total(progress, "nll") / tokens,
                  "train_kl_per_token": epoch_total(progress, "kl") / tokens}
        if self.dialogue.model == "vhred":
            fields["kl_weight"] = kl_weight(self.dialogue, progress.step)
        return fields

    def describe(self, record: dict) -> str:
        return (f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, valid ppl {record['valid_ppl']:.2f}"
                + (f" (the bound; reconstruction {record['valid_reconstruction_ppl']:.2f}, KL "
                   f"{record['valid_kl_per_response']:.3f} nats/response)" if "valid_kl_per_response" in record else "")
                + f", {record['elapsed_s']:.0f}s")


def evaluate_dialogue_run(trained, split: str = "test") -> dict:
    config, dialogue, vocab = trained.config, trained.assets, trained.vocab
    examples = prepare_dialogues(config, dialogue, vocab)[2][split]
    result = score_dialogue(trained.model, examples, vocab, trained.device)
    result.update({"task": "dialogue", "model": dialogue.model, "split": split, "data": config.data.corpus,
                   "context_size": dialogue.context_size})
    return result

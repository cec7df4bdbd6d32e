"""What an encoder-decoder learns in the one training loop: shuffled padded batches of pairs,
teacher forcing, and each epoch dev loss, perplexity, greedy exact match and BLEU."""

from __future__ import annotations

import dataclasses
import math
import time

import torch
from rnnlab.config import RunConfig, Seq2SeqConfig
from rnnlab.tasks.seq2seq.data import PairVocabularies, PreparedPairs, batches
from rnnlab.data.tokenize import Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.train.loop import Progress, StepResult
from rnnlab.tasks.seq2seq.metrics import decode_limit, score_split

# ---- the run directory's seq2seq parts -------------------------------------------------------
def save_pair_vocabularies(run: RunDir, data: PreparedPairs) -> None:
    save_vocabulary(run.vocab_path, data.vocabs.target, data.tokenizer.config,
                    {"source_tokens": data.vocabs.source.tokens, "pairs": data.info})


def load_pair_vocabularies(run: RunDir) -> tuple[PairVocabularies, dict]:
    target, payload = load_vocabulary(run.vocab_path)
    if "source_tokens" not in payload:
        raise RnnlabError(f"{run.vocab_path}: not a seq2seq vocabulary (no source tokens)")
    return PairVocabularies(Vocabulary(payload["source_tokens"]), target), payload


# ---- what the loop learns -----------------------------------------------------------------
class PairObjective:
    """Teacher-forced NLL of the target given the source; each epoch the pairs in a new shuffled
    order (a function of seed and epoch, so a resumed run sees the same batches). Validation
    decodes the dev pairs greedily for exact match and BLEU."""

    unit = "perplexity"
    curves = [("valid_exact_match", "exact match %", 100.0), ("valid_bleu", "BLEU", 1.0)]

    def __init__(self, config: RunConfig, data: PreparedPairs, device: torch.device):
        self.config, self.data, self.device = config, data, device
        self.seq = config.seq2seq or Seq2SeqConfig()
        # With no dev split (the book's corpora) the scores are on test: best.pt would be chosen on
        # test data, so only last.pt is kept (`best` falls back to it) and early stopping is off.
        self.dev_split = "valid" if data.splits["valid"].examples else "test"
        self.chooses_best = self.dev_split == "valid"
        self.max_steps = decode_limit(data.info)

    def batches(self, epoch: int, position: int):
        c = self.config.train
        for index, batch in enumerate(batches(self.data.splits["train"], c.batch_size, self.data.vocabs,
                                              shuffle_seed=c.seed * 1000 + epoch, skip=position), position + 1):
            yield index, batch

    def count(self, epoch: int, position: int) -> tuple[int, int]:
        return math.ceil(len(self.data.splits["train"].examples) / self.config.train.batch_size), position

    def step(self, model, batch, carry, step: int) -> StepResult:
        b = batch.to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.seq.bf16):
            nll, tokens = model(b.source, b.source_lengths, b.target_in, b.target_out)
        return StepResult(nll / tokens, nll.item(), tokens)

    def validate(self, model) -> dict:
        started = time.perf_counter()
        scores = score_split(model, self.data.splits[self.dev_split], self.data.vocabs, self.config.data.level,
                             self.device, self.max_steps, self.seq.dev_limit)
        return {"valid_loss": scores["loss"], "valid_ppl": scores["perplexity"],
                "valid_exact_match": scores["exact_match"], "valid_bleu": scores["bleu"],
                "valid_split": self.dev_split, "valid_decoded": scores["decoded"],
                "eval_s": round(time.perf_counter() - started, 2)}

    def train_fields(self, progress: Progress) -> dict:
        return {"train_loss": progress.epoch_nll / max(progress.epoch_tokens, 1)}

    def describe(self, record: dict) -> str:
        return describe(record)


def describe(record: dict) -> str:
    return (f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, {record['valid_split']} loss "
            f"{record['valid_loss']:.4f}, exact match {100 * record['valid_exact_match']:.2f}%, "
            f"BLEU {record['valid_bleu']:.2f} ({record['valid_decoded']} decoded greedily), "
            f"{record['elapsed_s']:.1f}s trained")


def validate_seq2seq(config: RunConfig, seq: Seq2SeqConfig) -> None:
    """Every problem with the seq2seq options, reported together."""
    problems = []
    for f in dataclasses.fields(seq):
        choices = f.metadata.get("choices")
        if choices and getattr(seq, f.name) not in choices:
            problems.append(f"--{f.name.replace('_', '-')} {getattr(seq, f.name)!r} is not one of: {', '.join(choices)}")
    if seq.max_length < 1:
        problems.append("--max-length must be at least 1")
    if config.model.dropout_site != "between" or config.model.tie_weights or config.model.weight_drop:
        problems.append("--task seq2seq supports --dropout only (not --dropout-site projected, --tie-weights, "
                        "--weight-drop)")
    if problems:
        raise RnnlabError("\n".join(problems))

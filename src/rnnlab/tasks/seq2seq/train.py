"""What an encoder-decoder learns in the one training loop: shuffled padded batches of pairs,
teacher forcing, and each epoch dev loss, perplexity, greedy exact match and BLEU.

Under torchrun each process takes its own share of every epoch's batches (`deal`), the losses are
summed over the processes, and rank 0 alone scores the dev pairs and hands its record to the others."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from pathlib import Path

from rnnlab.config import RunConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.tasks.seq2seq.data import PairVocabularies, PreparedPairs, batches
from rnnlab.data.tokenize import Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.runs import RunDir
from rnnlab.train.distributed import (Placement, broadcast_object, check_shares, deal, epoch_total,
                                      summed_over_ranks)
from rnnlab.train.loop import Progress, StepResult
from rnnlab.tasks.seq2seq.metrics import decode_limit, score_split
from rnnlab.tasks.seq2seq.subword import MODEL_FILES, SubwordModel

PAIR_CELLS = ("rnn", "rnn-relu", "lstm", "gru")     # the cells the encoder-decoders are built of (nn.RNN/LSTM/GRU)
ANNEAL_FLOOR = 0.02                                 # --anneal ends at this share of the learning rate


# ---- the run directory's seq2seq parts -------------------------------------------------------
def save_pair_vocabularies(run: RunDir, data: PreparedPairs) -> None:
    vocabs, extra = data.vocabs, {"source_tokens": data.vocabs.source.tokens, "pairs": data.info}
    if vocabs.subword:                  # the SentencePiece models beside vocab.json, which names them
        for side, name in MODEL_FILES.items():
            (run.path / name).write_bytes(getattr(vocabs, f"{side}_subword").proto)
        extra["subword"] = dict(MODEL_FILES)
        extra["subword_unspaced_source"] = vocabs.unspaced_source
    save_vocabulary(run.vocab_path, vocabs.target, data.tokenizer.config, extra)


def load_pair_vocabularies(run: RunDir) -> tuple[PairVocabularies, dict]:
    """The run's vocabularies; a run trained with --subword also gets its SentencePiece models."""
    target, payload = load_vocabulary(run.vocab_path)
    if "source_tokens" not in payload:
        raise RnnlabError(f"{run.vocab_path}: not a seq2seq vocabulary (no source tokens)")
    source = Vocabulary(payload["source_tokens"])
    files = payload.get("subword")
    if not files:
        return PairVocabularies(source, target), payload
    if not isinstance(files, dict) or set(files) != set(MODEL_FILES) or not all(isinstance(f, str) for f in files.values()):
        raise RnnlabError(f"{run.vocab_path}: its `subword` entry must name the source and target "
                          "SentencePiece model files")
    models = {side: SubwordModel.load(run.path / Path(name).name) for side, name in files.items()}
    unspaced = payload.get("subword_unspaced_source", False)      # absent in runs made before it: False
    if not isinstance(unspaced, bool):
        raise RnnlabError(f"{run.vocab_path}: its `subword_unspaced_source` entry must be true or false")
    for side, vocab in (("source", source), ("target", target)):
        if models[side].pieces != vocab.tokens:
            raise RnnlabError(f"{run.path / Path(files[side]).name}: its pieces differ from the {side} "
                              f"vocabulary in {run.vocab_path}")
    return PairVocabularies(source, target, models["source"], models["target"], unspaced), payload


def lr_scale(seq: Seq2SeqConfig, step: int, elapsed_s: float, budget_s: float) -> float:
    """The learning rate's factor at a step: a linear warmup over --warmup steps, then, with --anneal A
    and a time budget, flat until the last A of it and linearly down to 1/50 at its end."""
    scale = min(1.0, step / seq.warmup) if seq.warmup else 1.0
    if seq.anneal and budget_s:
        left = max(0.0, 1.0 - elapsed_s / budget_s)                   # share of the budget left
        scale *= max(ANNEAL_FLOOR, min(1.0, left / seq.anneal))
    return scale


# ---- what the loop learns -----------------------------------------------------------------
class PairObjective:
    """Teacher-forced NLL of the target given the source; each epoch the pairs in a new shuffled
    order (a function of seed and epoch, so a resumed run sees the same batches). Validation
    decodes the dev pairs greedily for exact match and BLEU.

    Under torchrun batch i of the epoch's shuffled order is rank i % world_size's and the tail that does not divide is left out;
    `position` counts this rank's batches, the same number on every rank."""

    unit = "perplexity"
    curves = [("valid_exact_match", "exact match %", 100.0), ("valid_bleu", "BLEU", 1.0)]

    def __init__(self, config: RunConfig, data: PreparedPairs, placement: Placement, trained_s: float = 0.0):
        self.placement, self.config, self.data, self.device = placement, config, data, placement.device
        # --anneal's clock: the time trained before (a resumed run) plus the wall time since the first step
        self.trained_s, self.clock, self.scale = trained_s, None, 1.0
        self.seq = Seq2SeqConfig.of(config)
        if self.seq.anneal and placement.world_size > 1:
            raise RnnlabError("--anneal follows each process's own clock; under torchrun use --schedule instead")
        # With no dev split (the book's corpora) the scores are on test: best.pt would be chosen on
        # test data, so only last.pt is kept (`best` falls back to it) and early stopping is off.
        self.dev_split = "valid" if data.splits["valid"].examples else "test"
        self.chooses_best = self.dev_split == "valid"
        self.max_steps = decode_limit(data.info)
        self.total = math.ceil(len(data.splits["train"].examples) / config.train.batch_size)   # batches in an epoch
        check_shares(self.total, config.train.batch_size, self.placement)

    def batches(self, epoch: int, position: int):
        c, world = self.config.train, self.placement.world_size
        mine = deal(self.total, self.placement)[position:]
        if not mine:
            return
        walk = batches(self.data.splits["train"], c.batch_size, self.data.vocabs,
                       shuffle_seed=c.seed * 1000 + epoch, bucket=self.seq.bucket, skip=mine.start)
        picked = itertools.islice(walk, 0, mine.stop - mine.start, world)       # every world_size-th from mine.start
        yield from enumerate(picked, position + 1)

    def count(self, epoch: int, position: int) -> tuple[int, int]:
        return len(deal(self.total, self.placement)), position

    def step(self, model, batch, carry, step: int) -> StepResult:
        b = batch.to(self.device)
        loss, nll, tokens = model(b.source, b.source_lengths, b.target_in, b.target_out, self.seq.label_smoothing)
        value = nll.item()
        now = time.perf_counter()
        self.clock = self.clock or now
        scale = self.scale = lr_scale(self.seq, step + 1, self.trained_s + now - self.clock,
                                      self.config.train.max_minutes * 60)
        # under torchrun the epoch's record speaks for every rank's batches
        return StepResult(loss / tokens, value, tokens, extra=summed_over_ranks({"nll": value, "tokens": tokens},
                                                                                 self.placement), lr_scale=scale)

    def validate(self, model) -> dict:
        record = self.score_dev(model) if self.placement.is_main else None
        record = broadcast_object(record, self.placement)
        if self.seq.warmup or self.seq.anneal:       # the record's lr is the base rate; this is its last factor
            record["lr_scale"] = round(self.scale, 6)
        return record

    def score_dev(self, model) -> dict:
        started = time.perf_counter()
        scores = score_split(model, self.data.splits[self.dev_split], self.data.vocabs, self.config.data.level,
                             self.device, self.max_steps, self.seq.dev_limit)
        return {"valid_loss": scores["loss"], "valid_ppl": scores["perplexity"],
                "valid_exact_match": scores["exact_match"], "valid_bleu": scores["bleu"],
                "valid_split": self.dev_split, "valid_decoded": scores["decoded"],
                "eval_s": round(time.perf_counter() - started, 2)}

    def train_fields(self, progress: Progress) -> dict:
        return {"train_loss": epoch_total(progress, "nll") / max(epoch_total(progress, "tokens"), 1)}

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
    if not 0 <= seq.label_smoothing < 1:
        problems.append("--label-smoothing must be in [0, 1)")
    if not 0 <= seq.anneal <= 1:
        problems.append("--anneal must be in [0, 1] (the final share of --max-minutes over which the lr decays)")
    if seq.anneal and not config.train.max_minutes:
        problems.append("--anneal decays the learning rate over the time budget: it needs --max-minutes")
    for name in ("bucket", "warmup"):
        if getattr(seq, name) < 0:
            problems.append(f"--{name} must not be negative")
    if seq.subword != "none" and seq.subword_vocab < 300:
        problems.append("--subword-vocab must be at least 300 (SentencePiece keeps 256 byte pieces besides the "
                        "specials and characters)")
    if seq.subword != "none" and config.data.level == "char":
        problems.append("--subword reads words, not characters: leave --level char out")
    if config.model.cell not in PAIR_CELLS:
        problems.append(f"--task seq2seq has no {config.model.cell} encoder-decoder; --cell is one of: "
                        f"{', '.join(PAIR_CELLS)}")
    if config.model.dropout_site != "between" or config.model.weight_drop:
        problems.append("--task seq2seq supports --dropout only (not --dropout-site projected, --weight-drop)")
    if config.model.tie_weights and (seq.decoder == "peeky" or config.model.embed_size != config.model.hidden):
        problems.append("--tie-weights shares the target embedding with the output layer: it needs --embed equal "
                        "to --hidden and a plain or attention decoder")
    if problems:
        raise RnnlabError("\n".join(problems))

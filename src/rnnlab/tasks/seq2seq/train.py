"""Training an encoder-decoder on pairs: shuffled padded batches, teacher forcing, dev scores.

The stream Trainer is for language models (carried state, TBPTT windows); pairs need neither,
so this is a loop of its own that shares the rest: run directory, config, optimiser and
schedule, atomic checkpoints with exact resume (batch order is a function of seed and epoch).
Each epoch logs dev loss, perplexity, greedy exact match and BLEU into metrics.jsonl and the plot.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from rnnlab.config import RunConfig, Seq2SeqConfig, with_resumable
from rnnlab.tasks.seq2seq.data import PairVocabularies, PreparedPairs, batches, prepare_pairs
from rnnlab.data.tokenize import Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.tasks.seq2seq.model import build_seq2seq
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.train.distributed import pick_device
from rnnlab.train.optim import Schedule, make_optimizer
from rnnlab.tasks.seq2seq.metrics import decode_limit, score_split

# ---- the run directory's seq2seq parts -------------------------------------------------------
def save_pair_config(run: RunDir, config: RunConfig, seq: Seq2SeqConfig) -> None:
    payload = {**config.to_dict(), "seq2seq": dataclasses.asdict(seq)}
    write_atomic(run.config_path, json.dumps(payload, indent=2, ensure_ascii=False))


def load_pair_config(run: RunDir) -> tuple[RunConfig, Seq2SeqConfig]:
    config = run.load_config()
    raw = json.loads(run.config_path.read_text(encoding="utf-8")).get("seq2seq") or {}
    known = {f.name for f in dataclasses.fields(Seq2SeqConfig)}
    return config, Seq2SeqConfig(**{k: v for k, v in raw.items() if k in known})


def save_pair_vocabularies(run: RunDir, data: PreparedPairs) -> None:
    save_vocabulary(run.vocab_path, data.vocabs.target, data.tokenizer.config,
                    {"source_tokens": data.vocabs.source.tokens, "pairs": data.info})


def load_pair_vocabularies(run: RunDir) -> tuple[PairVocabularies, dict]:
    target, payload = load_vocabulary(run.vocab_path)
    if "source_tokens" not in payload:
        raise RnnlabError(f"{run.vocab_path}: not a seq2seq vocabulary (no source tokens)")
    return PairVocabularies(Vocabulary(payload["source_tokens"]), target), payload


# ---- the loop ---------------------------------------------------------------------------------
@dataclass
class PairProgress:
    epoch: int = 1
    position: int = 0            # batches done in this epoch
    step: int = 0
    epoch_nll: float = 0.0
    epoch_tokens: int = 0
    best_valid: float = math.inf
    bad_epochs: int = 0
    elapsed: float = 0.0
    metrics_count: int = 0
    finished: bool = False


class PairTrainer:
    def __init__(self, model, config: RunConfig, seq: Seq2SeqConfig, data: PreparedPairs, run: RunDir, device,
                 log=print):
        self.model, self.config, self.seq, self.data, self.run, self.device, self.log = \
            model, config, seq, data, run, device, log
        self.optimizer = make_optimizer(model.parameters(), config.train)
        self.schedule = Schedule(self.optimizer, config.train)
        self.progress = PairProgress()
        self.dev_split = "valid" if data.splits["valid"].examples else "test"
        self.max_steps = decode_limit(data.info)

    def save(self, path: Path) -> None:
        save_checkpoint(path, {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                               "schedule": self.schedule.state_dict(), "progress": vars(self.progress).copy(),
                               "rng": {"torch": torch.get_rng_state()}})

    def resume(self) -> None:
        payload = load_checkpoint(self.run.last_checkpoint)
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.schedule.load_state_dict(payload["schedule"])
        self.progress = PairProgress(**payload["progress"])
        c = self.config.train      # a finished run goes on when --epochs grew, unless it stopped early
        self.progress.finished = bool(c.early_stop and self.progress.bad_epochs >= c.early_stop)
        torch.set_rng_state(payload["rng"]["torch"])
        self.run.truncate_metrics(self.progress.metrics_count)

    def fit(self) -> list[dict]:
        c, p = self.config.train, self.progress
        while not p.finished and p.epoch <= c.epochs:
            out_of_time = self.train_epoch()
            self.end_epoch(partial=out_of_time)
            if out_of_time:
                break
        return self.run.read_metrics()

    def train_epoch(self) -> bool:
        """Train from the saved position to the end of the epoch; True when time ran out."""
        c, p = self.config.train, self.progress
        self.model.train()
        train = self.data.splits["train"]
        total = math.ceil(len(train.examples) / c.batch_size)
        bar = tqdm(total=total, initial=p.position, desc=f"epoch {p.epoch}", leave=False, dynamic_ncols=True,
                   disable=None)
        started = time.perf_counter()
        for batch in batches(train, c.batch_size, self.data.vocabs, shuffle_seed=c.seed * 1000 + p.epoch,
                             skip=p.position):
            nll, tokens = self.train_step(batch.to(self.device))
            p.position, p.epoch_nll, p.epoch_tokens = p.position + 1, p.epoch_nll + nll, p.epoch_tokens + tokens
            bar.update(1)
            bar.set_postfix({"loss": f"{p.epoch_nll / p.epoch_tokens:.3f}"}, refresh=False)
            if c.checkpoint_every and p.step % c.checkpoint_every == 0:
                self.save(self.run.last_checkpoint)
            if c.max_minutes and p.elapsed + time.perf_counter() - started > c.max_minutes * 60:
                p.elapsed += time.perf_counter() - started
                bar.close()
                return True
        p.elapsed += time.perf_counter() - started
        bar.close()
        return False

    def train_step(self, batch) -> tuple[float, int]:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.seq.bf16):
            nll, tokens = self.model(batch.source, batch.source_lengths, batch.target_in, batch.target_out)
        self.optimizer.zero_grad(set_to_none=True)
        (nll / tokens).backward()
        if self.config.train.clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.clip)
        self.optimizer.step()
        self.progress.step += 1
        return nll.item(), tokens

    def end_epoch(self, partial: bool) -> dict:
        c, p = self.config.train, self.progress
        started = time.perf_counter()
        scores = score_split(self.model, self.data.splits[self.dev_split], self.data.vocabs, self.config.data.level,
                             self.device, self.max_steps, self.seq.dev_limit)
        record = {"epoch": p.epoch, "step": p.step, "train_loss": p.epoch_nll / max(p.epoch_tokens, 1),
                  "valid_loss": scores["loss"], "valid_ppl": scores["perplexity"],
                  "valid_exact_match": scores["exact_match"], "valid_bleu": scores["bleu"],
                  "valid_split": self.dev_split, "valid_decoded": scores["decoded"], "lr": self.schedule.lr,
                  "elapsed_s": round(p.elapsed, 2), "eval_s": round(time.perf_counter() - started, 2)}
        if partial:
            record["partial"] = True
        improved = scores["loss"] < p.best_valid
        p.best_valid, p.bad_epochs = (scores["loss"], 0) if improved else (p.best_valid, p.bad_epochs + 1)
        if not partial:
            self.schedule.after_epoch(p.epoch, scores["loss"])
            p.epoch, p.position, p.epoch_nll, p.epoch_tokens = p.epoch + 1, 0, 0.0, 0
        if (c.early_stop and p.bad_epochs >= c.early_stop and self.dev_split == "valid") or p.epoch > c.epochs:
            p.finished = True
        self.run.append_metrics(record)
        p.metrics_count += 1
        plot_pair_metrics(self.run.read_metrics(), self.run.plot_path)
        # With no dev split (the book's corpora) the scores are on test: best.pt would be chosen on
        # test data, so only last.pt is kept and `best` falls back to it.
        if improved and self.dev_split == "valid":
            self.save(self.run.best_checkpoint)
        self.save(self.run.last_checkpoint)
        self.log(describe(record))
        return record


def describe(record: dict) -> str:
    return (f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, {record['valid_split']} loss "
            f"{record['valid_loss']:.4f}, exact match {100 * record['valid_exact_match']:.2f}%, "
            f"BLEU {record['valid_bleu']:.2f} ({record['valid_decoded']} decoded greedily), "
            f"{record['elapsed_s']:.1f}s trained")


def plot_pair_metrics(records: list[dict], path: Path) -> None:
    """Loss (train, dev) and dev exact match / BLEU per epoch."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not records:
        return
    epochs = [r["epoch"] for r in records]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["train_loss"] for r in records], "o-", label="train")
    left.plot(epochs, [r["valid_loss"] for r in records], "o-", label=records[-1]["valid_split"])
    left.set_xlabel("epoch"), left.set_ylabel("loss (nats / target token)"), left.legend()
    right.plot(epochs, [100 * r["valid_exact_match"] for r in records], "o-", label="exact match %")
    right.plot(epochs, [r["valid_bleu"] for r in records], "s-", label="BLEU")
    right.set_xlabel("epoch"), right.set_title(f"{records[-1]['valid_split']}, greedy"), right.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)


# ---- one run, start or resume ----------------------------------------------------------------
def train_pairs(config: RunConfig | None, seq: Seq2SeqConfig | None, out, resume: bool = False,
                overrides: dict | None = None, log=print) -> list[dict]:
    """Train an encoder-decoder into run directory `out`; returns its metrics records."""
    run = RunDir(out)
    saved = None
    if resume:
        run.check_resumable()
        config, seq = load_pair_config(run)
        config = with_resumable(config, overrides)
        saved = load_pair_vocabularies(run)[0]
    validate_seq2seq(config, seq)
    device = pick_device(config.train.device)
    if config.train.threads:       # else PyTorch's default: every core (--threads 1 on a shared machine)
        torch.set_num_threads(config.train.threads)
    data = prepare_pairs(config.data, seq, saved)
    pretrained = None
    if config.model.init_embeddings and not resume:          # checked before anything is written
        from rnnlab.tasks.word2vec.train import vectors_for
        pretrained = vectors_for(config)
    if not resume:
        run.create(config)
        save_pair_config(run, config, seq)
        save_pair_vocabularies(run, data)
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    model = build_seq2seq(config.model, seq, len(data.vocabs.source), len(data.vocabs.target)).to(device)
    if pretrained:
        from rnnlab.tasks.word2vec.train import init_seq2seq_embeddings
        log(init_seq2seq_embeddings(model, data.vocabs, *pretrained))
    trainer = PairTrainer(model, config, seq, data, run, device, log)
    if resume:
        trainer.resume()
    m = config.model
    params = sum(p.numel() for p in model.parameters())
    log(f"{data.source_name}: {len(data.splits['train'].examples):,} training pairs"
        + (f" ({data.skipped:,} over --max-length {seq.max_length} skipped)" if data.skipped else "")
        + f", vocabulary {len(data.vocabs.source):,} -> {len(data.vocabs.target):,}; "
        f"{m.layers}x{m.hidden} {m.cell} {'bidirectional ' if seq.bidirectional else ''}encoder, {seq.decoder} decoder"
        + (f" ({seq.attention})" if seq.decoder == "attention" else "")
        + (", reversed source" if seq.reverse_source else "") + f", {params:,} parameters; {device}; run {run.path}"
        + (f" (resuming at epoch {trainer.progress.epoch})" if resume else ""))
    return trainer.fit()


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

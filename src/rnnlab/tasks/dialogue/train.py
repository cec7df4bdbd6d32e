"""Training response generators (flat seq2seq, HRED, VHRED) on dialogues, and scoring them.

One epoch = every (context, response) example once, shuffled with a seed per epoch. Each epoch
logs valid response perplexity (and for VHRED the KL term and the bound) into metrics.jsonl.
VHRED's KL weight rises linearly from 0 to 1 over --kl-anneal-steps.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import time
from dataclasses import dataclass

import torch

from rnnlab.config import DialogueConfig, RunConfig, with_resumable
from rnnlab.tasks.dialogue.data import (DialogueExamples, build_dialogue_vocabulary, make_dialogue_batch, make_examples,
                                  read_dialogue_splits, tokenise_dialogues)
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig, Vocabulary, load_vocabulary, save_vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.files import write_atomic
from rnnlab.tasks.dialogue.model import DialogueModel
from rnnlab.runs import RunDir
from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.train.distributed import pick_device
from rnnlab.train.optim import Schedule, make_optimizer


def dialogue_batches(examples: DialogueExamples, batch_size: int, vocab: Vocabulary, seed: int | None = None):
    order = list(range(len(examples.responses)))
    if seed is not None:
        random.Random(seed).shuffle(order)
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
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


def load_dialogue_config(run: RunDir) -> tuple[RunConfig, DialogueConfig]:
    config = run.load_config()
    raw = json.loads(run.config_path.read_text(encoding="utf-8")).get("dialogue") or {}
    known = {f.name for f in dataclasses.fields(DialogueConfig)}
    return config, DialogueConfig(**{k: v for k, v in raw.items() if k in known})


def prepare_dialogues(config: RunConfig, dialogue: DialogueConfig, vocab: Vocabulary | None = None):
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


@dataclass
class DialogueProgress:
    """Where a dialogue run stands; saved in every checkpoint so that a killed run resumes exactly."""

    epoch: int = 1
    position: int = 0              # batches done in this epoch
    step: int = 0
    nll: float = 0.0               # this epoch's running sums
    kl: float = 0.0
    tokens: int = 0
    best: float = math.inf
    elapsed: float = 0.0
    metrics_count: int = 0


def open_for_training(config, dialogue, run: RunDir, resume: bool, overrides: dict | None):
    """The config, dialogue settings and (when resuming) the saved vocabulary to train with."""
    if not resume:
        return config, dialogue, None
    run.check_resumable()
    config, dialogue = load_dialogue_config(run)
    return with_resumable(config, overrides), dialogue, load_vocabulary(run.vocab_path)[0]


def train_dialogue(config: RunConfig | None, dialogue: DialogueConfig | None, out, log=print, resume: bool = False,
                   overrides: dict | None = None) -> list[dict]:
    """Train a response generator into run directory `out` (or resume the one there); returns its
    metrics records."""
    run = RunDir(out)
    config, dialogue, saved_vocab = open_for_training(config, dialogue, run, resume, overrides)
    device = pick_device(config.train.device)
    if config.train.threads:       # else PyTorch's default: every core
        torch.set_num_threads(config.train.threads)
    tokenizer, vocab, examples = prepare_dialogues(config, dialogue, saved_vocab)
    if not resume:
        run.create(config)
        write_atomic(run.config_path, json.dumps({**config.to_dict(), "dialogue": dataclasses.asdict(dialogue)},
                                                 indent=2, ensure_ascii=False))
        save_vocabulary(run.vocab_path, vocab, tokenizer.config)
    torch.manual_seed(config.train.seed)
    model = build_dialogue_model(config, dialogue, vocab).to(device)
    optimizer, c = make_optimizer(model.parameters(), config.train), config.train
    schedule = Schedule(optimizer, c)
    p = DialogueProgress()
    if resume:
        payload = load_checkpoint(run.last_checkpoint)
        if "optimizer" not in payload:
            raise RnnlabError(f"{run.last_checkpoint}: saved without optimiser state (an older rnnlab); "
                              "it cannot be resumed, train a new run")
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        schedule.load_state_dict(payload["schedule"])
        p = DialogueProgress(**payload["progress"])
        torch.set_rng_state(payload["rng"])
        run.truncate_metrics(p.metrics_count)

    def save(path) -> None:
        save_checkpoint(path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                               "schedule": schedule.state_dict(), "progress": dataclasses.asdict(p),
                               "rng": torch.get_rng_state()})

    log(f"{config.data.corpus}: {len(examples['train'].responses):,} training responses (context "
        f"{dialogue.context_size}), vocabulary {len(vocab):,}; {dialogue.model}, {config.model.layers}x"
        f"{config.model.hidden} {config.model.cell}, {sum(q.numel() for q in model.parameters()):,} parameters; "
        f"{device}; run {run.path}" + (f" (resuming at epoch {p.epoch})" if resume else ""))
    started = time.perf_counter() - p.elapsed
    while p.epoch <= c.epochs:
        model.train()
        out_of_time = False
        batches = dialogue_batches(examples["train"], c.batch_size, vocab, seed=c.seed * 1000 + p.epoch)
        for batch in itertools.islice(batches, p.position, None):
            out = model(batch.to(device))
            loss = (out.nll_sum + kl_weight(dialogue, p.step) * out.kl_sum) / out.tokens
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c.clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip)
            optimizer.step()
            p.step, p.position = p.step + 1, p.position + 1
            p.nll, p.kl, p.tokens = p.nll + out.nll_sum.item(), p.kl + out.kl_sum.item(), p.tokens + out.tokens
            p.elapsed = time.perf_counter() - started
            if c.checkpoint_every and p.step % c.checkpoint_every == 0:
                save(run.last_checkpoint)
            if c.max_minutes and p.elapsed > c.max_minutes * 60:
                out_of_time = True
                break
        valid = score_dialogue(model, examples["valid"], vocab, device)
        record = {"epoch": p.epoch, "step": p.step, "train_loss": p.nll / max(p.tokens, 1),
                  "train_kl_per_token": p.kl / max(p.tokens, 1), "valid_loss": valid["nll"],
                  "valid_ppl": valid["perplexity"], "lr": schedule.lr, "elapsed_s": round(p.elapsed, 2)}
        if "kl_per_response" in valid:
            record.update(valid_kl_per_response=valid["kl_per_response"], valid_bound_ppl=valid["bound_perplexity"],
                          kl_weight=kl_weight(dialogue, p.step))
        if out_of_time:
            record["partial"] = True
        run.append_metrics(record)
        improved = valid["nll"] < p.best
        p.best = min(p.best, valid["nll"])
        p.metrics_count += 1
        if not out_of_time:
            schedule.after_epoch(p.epoch, valid["nll"])
            p.epoch, p.position, p.nll, p.kl, p.tokens = p.epoch + 1, 0, 0.0, 0.0, 0
        if improved:
            save(run.best_checkpoint)
        save(run.last_checkpoint)
        log(f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}, valid ppl {valid['perplexity']:.2f}"
            + (f" (the bound; reconstruction {valid['reconstruction_perplexity']:.2f}, KL "
               f"{valid['kl_per_response']:.3f} nats/response)" if "kl_per_response" in valid else "")
            + f", {record['elapsed_s']:.0f}s")
        if out_of_time:
            break
    return run.read_metrics()


def evaluate_dialogue_run(path, split: str = "test", device: str = "auto", which: str = "best") -> dict:
    device = pick_device(device)
    from rnnlab.tasks.dialogue.respond import open_dialogue_run
    config, dialogue, _, vocab, model = open_dialogue_run(path, which, device)
    examples = prepare_dialogues(config, dialogue, vocab)[2][split]
    result = score_dialogue(model, examples, vocab, device)
    result.update({"task": "dialogue", "model": dialogue.model, "split": split, "data": config.data.corpus,
                   "context_size": dialogue.context_size})
    return result

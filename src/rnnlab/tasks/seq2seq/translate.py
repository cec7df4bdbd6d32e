"""Decode with a trained seq2seq run: greedy, or beam search with a length penalty and n-best lists.

A source string is tokenised exactly as in training (the book's questions padded to their
fixed width, reversed when the run reverses sources). Attention weights come back in the
source's reading order, one row per output token (the last row is the step that chose </s>).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnlab.config import RunConfig, Seq2SeqConfig
from rnnlab.tasks.seq2seq.data import PairVocabularies, encode_source, join_side, split_side
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig
from rnnlab.errors import RnnlabError
from rnnlab.tasks.seq2seq.model import Seq2Seq, build_seq2seq
from rnnlab.runs import RunDir
from rnnlab.tasks.base import checkpoint_path, load_weights
from rnnlab.tasks.seq2seq.metrics import decode_limit
from rnnlab.tasks.seq2seq.train import load_pair_vocabularies


@dataclass
class PairRun:
    run: RunDir
    config: RunConfig
    seq: Seq2SeqConfig
    tokenizer: TextTokenizer
    vocabs: PairVocabularies
    info: dict
    model: Seq2Seq
    device: torch.device
    checkpoint: str = "best"          # the checkpoint read: best, or last where no best was kept


@dataclass
class Hypothesis:
    tokens: list[str]
    log_prob: float                     # summed log-probability, </s> included when it ended
    score: float                        # log_prob / length penalty: what beam search ranks by
    weights: torch.Tensor | None        # (output steps, source tokens) in reading order


def open_pair_run(run: RunDir, config: RunConfig, which: str = "best", device="cpu") -> PairRun:
    """A seq2seq run directory: both vocabularies, the tokeniser and the chosen checkpoint's weights."""
    seq = config.seq2seq or Seq2SeqConfig()
    vocabs, payload = load_pair_vocabularies(run)
    tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
    model = load_weights(build_seq2seq(config.model, seq, len(vocabs.source), len(vocabs.target)), run, which, device)
    return PairRun(run, config, seq, tokenizer, vocabs, payload.get("pairs", {}), model, torch.device(device),
                   checkpoint_path(run, which).stem)


def source_tokens(trained: PairRun, text: str) -> list[str]:
    """Tokens as the model saw them in training; the book's questions padded to their width."""
    width = trained.info.get("source_width", 0)
    if width and len(text) < width:
        text = text.ljust(width)
    tokens = split_side(trained.tokenizer, text)
    if not tokens:
        raise RnnlabError(f"{text!r}: nothing to translate (no tokens)")
    return tokens


def translate(trained: PairRun, text: str, beam: int = 0, length_penalty: float = 0.0, n_best: int = 1,
              max_steps: int = 0) -> tuple[list[Hypothesis], list[str]]:
    """Hypotheses for one source (best first; one for greedy) and its tokens in reading order."""
    tokens = source_tokens(trained, text)
    ids = encode_source(trained.vocabs.source, tokens, trained.seq.reverse_source)
    source = torch.tensor(ids, dtype=torch.long, device=trained.device)[:, None]     # (source, 1)
    lengths = torch.tensor([len(ids)])
    steps = max_steps or decode_limit(trained.info, len(ids))
    vocabs = trained.vocabs
    if beam and beam > 0:
        found = beam_search(trained.model, source, lengths, vocabs.bos_id, vocabs.eos_id, beam, steps,
                            length_penalty, max(n_best, 1))
    else:
        out, log_prob, weights = trained.model.greedy(source, lengths, vocabs.bos_id, vocabs.eos_id, steps)
        row = weights[:, 0] if weights is not None else None
        found = [(out[0], float(log_prob[0]), float(log_prob[0]), row)]
    hypotheses = []
    for ids_out, log_prob, score, weights in found:
        if weights is not None and trained.seq.reverse_source:
            weights = weights.flip(1)
        hypotheses.append(Hypothesis(vocabs.target.decode(ids_out), log_prob, score,
                                     None if weights is None else weights.cpu()))
    return hypotheses, tokens


def output_text(trained: PairRun, tokens: list[str]) -> str:
    text = join_side(trained.config.data.level, tokens)
    return text.rstrip() if trained.info.get("source_width") else text


def length_normaliser(length: int, alpha: float) -> float:
    """GNMT's length penalty ((5 + length) / 6) ** alpha; alpha 0 ranks by plain log-probability."""
    return ((5 + length) / 6) ** alpha


@torch.no_grad()
def beam_search(model: Seq2Seq, source, lengths, bos_id: int, eos_id: int, beam: int, max_steps: int,
                length_penalty: float = 0.0, n_best: int = 1):
    """Beam search for one source (source_time, 1). Returns up to n_best tuples (ids, log_prob,
    score, weights (steps, source) or None), best first. Width 1 is greedy decoding exactly."""
    encoded = model.encode(source, lengths)
    state = model.initial_state(encoded)
    live = [([], 0.0, [])]                      # (ids, log_prob, weight rows)
    finished = []
    inputs = torch.tensor([[bos_id]], device=source.device)
    memory = encoded
    for _ in range(max_steps):
        logits, state, weights = model.decode(inputs, memory, state)
        log_probs = torch.log_softmax(logits[0], dim=1)                           # (live, vocab)
        totals = torch.tensor([h[1] for h in live], device=log_probs.device)[:, None] + log_probs
        values, flat = totals.view(-1).topk(min(2 * beam, totals.numel()))
        vocab = log_probs.size(1)
        survivors, origins = [], []
        for value, index in zip(values.tolist(), flat.tolist()):
            origin, token = divmod(index, vocab)
            ids, _, rows = live[origin]
            rows = rows + [weights[0, origin]] if weights is not None else rows
            if token == eos_id:
                finished.append((ids, value, rows, True))
            else:
                survivors.append((ids + [token], value, rows))
                origins.append(origin)
                if len(survivors) == beam:
                    break
        if len(finished) >= beam or not survivors:
            break
        live = survivors
        index = torch.tensor(origins, device=source.device)
        state = state.select(index)
        memory = encoded.select(torch.zeros(len(origins), dtype=torch.long, device=source.device))
        inputs = torch.tensor([[ids[-1] for ids, _, _ in live]], device=source.device)
    else:
        finished.extend((ids, value, rows, False) for ids, value, rows in live)
    if not finished:
        finished = [(ids, value, rows, False) for ids, value, rows in live]
    ranked = sorted(((ids, value, value / length_normaliser(len(ids) + ended, length_penalty),
                      torch.stack(rows) if rows else None) for ids, value, rows, ended in finished),
                    key=lambda h: -h[2])
    return ranked[:n_best]

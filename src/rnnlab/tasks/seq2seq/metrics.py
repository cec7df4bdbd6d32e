"""How good a seq2seq model is on a split: exact match, BLEU, perplexity.

Exact match compares the whole answer (every token, padding spaces of the book's answers
included). BLEU is sacrebleu's corpus BLEU on the corpus's own tokens: word tokens joined by
spaces with sacrebleu's tokeniser off ("none"), or characters ("char") at char level.
"""

from __future__ import annotations

import math

import torch

from rnnlab.tasks.seq2seq.data import EncodedPairs, PairVocabularies, batches
from rnnlab.errors import RnnlabError


def bleu_tokenisation(level: str) -> str:
    return "char" if level == "char" else "none"


def corpus_bleu(hypotheses: list[list[str]], references: list[list[str]], level: str) -> float:
    try:
        import sacrebleu
    except ImportError:
        raise RnnlabError("BLEU needs sacrebleu: pip install 'rnnlab[seq2seq]'") from None
    joiner = "" if level == "char" else " "
    hyps = [joiner.join(h) for h in hypotheses]
    refs = [joiner.join(r) for r in references]
    return sacrebleu.corpus_bleu(hyps, [refs], tokenize=bleu_tokenisation(level)).score


def exact_match(hypotheses: list[list[str]], references: list[list[str]]) -> float:
    return sum(h == r for h, r in zip(hypotheses, references)) / max(len(references), 1)


def decode_limit(info: dict, source_length: int = 0) -> int:
    """Steps a decoder may take: a margin over the longest training target (and the source)."""
    return max(int(info.get("max_target_length", 50) * 1.5) + 2, source_length + 5)


@torch.no_grad()
def greedy_hypotheses(model, pairs: EncodedPairs, vocabs: PairVocabularies, device, max_steps: int,
                      limit: int = 0, batch_size: int = 500, threads=None) -> list[list[str]]:
    """Greedy outputs as target tokens, in split order, for the first `limit` pairs (0: all);
    `threads` (a ThreadTuner) times the decoding steps."""
    was_training = model.training
    model.eval()
    subset = pairs if not limit else EncodedPairs(pairs.examples[:limit], pairs.references[:limit])
    outputs: dict[int, list[str]] = {}
    for batch in batches(subset, batch_size, vocabs):
        ids, _, _ = model.greedy(batch.source.to(device), batch.source_lengths, vocabs.bos_id, vocabs.eos_id, max_steps,
                                 threads)
        for index, row in zip(batch.index, ids):
            outputs[index] = vocabs.words(row)
    model.train(was_training)
    return [outputs[i] for i in range(len(subset.examples))]


@torch.no_grad()
def teacher_forced_nll(model, pairs: EncodedPairs, vocabs: PairVocabularies, device,
                       batch_size: int = 500) -> tuple[float, int]:
    """Summed NLL of every reference target (with its </s>) and the token count."""
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    for batch in batches(pairs, batch_size, vocabs):
        b = batch.to(device)
        nll, count = model(b.source, b.source_lengths, b.target_in, b.target_out)
        total, tokens = total + nll.item(), tokens + count
    model.train(was_training)
    return total, tokens


def score_split(model, pairs: EncodedPairs, vocabs: PairVocabularies, level: str, device, max_steps: int,
                limit: int = 0, hypotheses: list[list[str]] | None = None) -> dict:
    """Loss and perplexity on the whole split; exact match and BLEU on the first `limit` pairs."""
    nll, tokens = teacher_forced_nll(model, pairs, vocabs, device)
    if hypotheses is None:
        hypotheses = greedy_hypotheses(model, pairs, vocabs, device, max_steps, limit)
    references = pairs.references[:len(hypotheses)]
    loss = nll / max(tokens, 1)
    return {"loss": loss, "perplexity": math.exp(min(loss, 700)), "exact_match": exact_match(hypotheses, references),
            "bleu": corpus_bleu(hypotheses, references, level), "pairs": len(pairs.examples),
            "decoded": len(hypotheses), "tokens": tokens, "hypotheses": hypotheses}

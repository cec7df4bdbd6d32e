"""Decode with a trained seq2seq run: greedy, or beam search with a length penalty and n-best lists.

A source string is tokenised exactly as in training (the book's questions padded to their
fixed width, reversed when the run reverses sources); a run with --normalize-source first writes a
raw sentence the way its corpus is written (lowercase, punctuation split off), and a SentencePiece
run (--subword) cuts it into the model's pieces (a Japanese source with the spaces between its words
taken out, so raw Japanese reads as the corpus's tokenised lines do). Outputs come back as text: a SentencePiece run's
pieces decoded, and Japanese targets without spaces between the words. Attention weights come back in the
source's reading order, one row per output token (the last row is the step that chose </s>).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnlab.config import RunConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.progress import progress_bar
from rnnlab.tasks.seq2seq.data import PairVocabularies, encode_source, join_side, split_side
from rnnlab.data.tokenize import TextTokenizer, TokenizerConfig
from rnnlab.errors import RnnlabError
from rnnlab.tasks.seq2seq.model import Seq2Seq, build_seq2seq
from rnnlab.runs import RunDir
from rnnlab.tasks.base import checkpoint_path, load_weights
from rnnlab.tasks.seq2seq.metrics import decode_limit
from rnnlab.tasks.seq2seq.subword import join_japanese, normalize_english
from rnnlab.tasks.seq2seq.train import load_pair_vocabularies
from rnnlab.train.threads import ThreadTuner, timed


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
    threads: int = 0                  # CPU threads for its work (0: timed, the faster count kept)


@dataclass
class Hypothesis:
    tokens: list[str]
    log_prob: float                     # summed log-probability, </s> included when it ended
    score: float                        # log_prob / length penalty: what beam search ranks by
    weights: torch.Tensor | None        # (output steps, source tokens) in reading order


def open_pair_run(run: RunDir, config: RunConfig, which: str = "best", device="cpu") -> PairRun:
    """A seq2seq run directory: both vocabularies, the tokeniser and the chosen checkpoint's weights."""
    seq = Seq2SeqConfig.of(config)
    vocabs, payload = load_pair_vocabularies(run)
    tokenizer = TextTokenizer(TokenizerConfig(**payload.get("tokenizer", {})))
    model = load_weights(build_seq2seq(config.model, seq, len(vocabs.source), len(vocabs.target),
                                       config.train.average), run, which, device)
    return PairRun(run, config, seq, tokenizer, vocabs, payload.get("pairs", {}), model, torch.device(device),
                   checkpoint_path(run, which).stem)


def source_tokens(trained: PairRun, text: str) -> list[str]:
    """Tokens as the model saw them in training; the book's questions padded to their width."""
    if not text.strip():
        raise RnnlabError("an empty text: nothing to translate")
    width = trained.info.get("source_width", 0)
    if width and len(text) < width:
        text = text.ljust(width)
    if trained.seq.normalize_source:
        text = normalize_english(text)
    tokens = trained.vocabs.source_tokens(trained.tokenizer, text) if trained.vocabs.subword \
        else split_side(trained.tokenizer, text)
    if not tokens:
        raise RnnlabError(f"{text!r}: nothing to translate (no tokens)")
    return tokens


def translate(trained: PairRun, text: str, beam: int = 0, length_penalty: float = 0.0, n_best: int = 1,
              max_steps: int = 0) -> tuple[list[Hypothesis], list[str]]:
    """Hypotheses for one source (best first; one for greedy) and its tokens in reading order."""
    return translate_many(trained, [text], beam, length_penalty, n_best, max_steps)[0]


def translate_many(trained: PairRun, texts: list[str], beam: int = 0, length_penalty: float = 0.0, n_best: int = 1,
                   max_steps: int = 0, batch_size: int = 64) -> list[tuple[list[Hypothesis], list[str]]]:
    """translate() for many sources, decoded a batch at a time (sources of like length together);
    each gets the hypotheses it would get alone. Results in the order of `texts`."""
    tokenized = [source_tokens(trained, text) for text in texts]
    encoded = [encode_source(trained.vocabs.source, tokens, trained.seq.reverse_source) for tokens in tokenized]
    groups: dict[int, list[int]] = {}                       # one step limit per batch, as for a source alone
    for i in sorted(range(len(texts)), key=lambda i: len(encoded[i])):
        groups.setdefault(max_steps or decode_limit(trained.info, len(encoded[i])), []).append(i)
    found: dict[int, list] = {}
    vocabs, device = trained.vocabs, trained.device
    bar = progress_bar(total=len(texts), desc="beam search" if beam and beam > 1 else "decoding", unit="source")
    for steps, members in groups.items():
        for start in range(0, len(members), batch_size):
            chunk = members[start:start + batch_size]
            bar.update(len(chunk))
            source, lengths = source_batch([encoded[i] for i in chunk], device)
            if beam and beam > 0:
                results = beam_search_batch(trained.model, source, lengths, vocabs.bos_id, vocabs.eos_id, beam,
                                            steps, length_penalty, max(n_best, 1))
            else:
                out, log_prob, weights = trained.model.greedy(source, lengths, vocabs.bos_id, vocabs.eos_id, steps)
                results = []
                for column, ids_out in enumerate(out):
                    rows = None
                    if weights is not None:              # the steps this source took: its tokens and </s>
                        rows = weights[:min(len(ids_out) + 1, weights.size(0)), column, :int(lengths[column])]
                    value = float(log_prob[column])
                    results.append([(ids_out, value, value, rows)])
            for i, result in zip(chunk, results):
                found[i] = result
    bar.close()
    translated = []
    for i, tokens in enumerate(tokenized):
        hypotheses = []
        for ids_out, log_prob, score, weights in found[i]:
            if weights is not None and trained.seq.reverse_source:
                weights = weights.flip(1)
            hypotheses.append(Hypothesis(vocabs.target.decode(ids_out), log_prob, score,
                                         None if weights is None else weights.cpu()))
        translated.append((hypotheses, tokens))
    return translated


def source_batch(sources: list[list[int]], device) -> tuple[torch.Tensor, torch.Tensor]:
    """Id lists -> (source_time, batch) padded with 0, and their lengths."""
    source = torch.zeros(max(len(s) for s in sources), len(sources), dtype=torch.long)
    for column, ids in enumerate(sources):
        source[:len(ids), column] = torch.tensor(ids, dtype=torch.long)
    return source.to(device), torch.tensor([len(s) for s in sources], dtype=torch.long)


def output_text(trained: PairRun, tokens: list[str]) -> str:
    """Output tokens as text for a reader; a SentencePiece run's pieces decoded, with the spaces
    between Japanese words taken out when the target is Japanese (--direction ..-ja)."""
    if trained.vocabs.subword:
        text = trained.vocabs.target_subword.decode(tokens)
        return join_japanese(text) if trained.seq.direction.endswith("-ja") else text
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
    return beam_search_batch(model, source, lengths, bos_id, eos_id, beam, max_steps, length_penalty, n_best)[0]


@torch.no_grad()
def beam_search_batch(model: Seq2Seq, source, lengths, bos_id: int, eos_id: int, beam: int, max_steps: int,
                      length_penalty: float = 0.0, n_best: int = 1, keep_weights: bool = True,
                      threads: ThreadTuner | None = None):
    """Beam search for a batch of sources (source_time, batch), every hypothesis of every source
    advanced one step at a time. Returns, per source, up to n_best tuples (ids, log_prob, score,
    weights (steps, source length) or None), best first, exactly as one source at a time would:

    each step takes the 2 * beam best extensions of a source's live hypotheses in order; one that
    ends in </s> is put aside as finished, the others live on until `beam` of them are found. A
    source stops when it has `beam` finished hypotheses or none live; at `max_steps`, its live ones
    count as unfinished. Finished and unfinished are ranked by log_prob / GNMT length penalty.
    `threads` times each step to choose the CPU thread count.
    """
    device = source.device
    batch = source.size(1)
    lengths_list = [int(n) for n in lengths]
    encoded = model.encode(source, lengths)
    width = 1                                       # slots per source: one hypothesis to start, then `beam`
    memory, state = encoded, model.initial_state(encoded)                      # slot r*width+j: source r
    log_prob = torch.zeros(batch, width, device=device)                       # -inf on an empty slot
    alive = torch.ones(batch, width, dtype=torch.bool, device=device)
    history = torch.zeros(batch, 0, dtype=torch.long, device=device)          # tokens so far, per slot
    weight_history = None                                                      # (slots, steps, source)
    owners = list(range(batch))                                                # the source of each row
    finished: list[list] = [[] for _ in range(batch)]
    inputs = torch.full((1, batch), bos_id, dtype=torch.long, device=device)
    for _ in range(max_steps):
        rows = len(owners)
        with timed(threads, work=inputs.size(1)):              # hypotheses in this step
            logits, state, weights = model.decode(inputs, memory, state)
        log_probs = torch.log_softmax(logits[0], dim=1)                          # (rows*width, vocab)
        vocab = log_probs.size(1)
        totals = (log_prob.view(-1, 1) + log_probs).view(rows, width * vocab)
        values, flat = totals.topk(min(2 * beam, width * vocab), dim=1)         # (rows, k), best first
        origin, token = flat // vocab, flat % vocab
        valid = alive.gather(1, origin)                                          # from a live hypothesis
        ends = token == eos_id
        grows = valid & ~ends
        before = grows.long().cumsum(1) - grows.long()                           # live extensions ahead
        taken = valid & (before < beam)                                          # read before `beam` lived
        ended, grows = taken & ends, taken & grows
        step_weights = weights[0] if weights is not None and keep_weights else None   # (rows*width, source)
        if bool(ended.any()):
            at_row, at_col = ended.nonzero(as_tuple=True)
            from_slot = (at_row * width + origin[at_row, at_col]).tolist()
            ids_of = history[from_slot].tolist() if history.size(1) else [[] for _ in from_slot]
            for r, slot, ids, value in zip(at_row.tolist(), from_slot, ids_of, values[at_row, at_col].tolist()):
                rows_of = None
                if step_weights is not None:
                    past = weight_history[slot] if weight_history is not None else step_weights.new_zeros(0, step_weights.size(1))
                    rows_of = torch.cat([past, step_weights[slot:slot + 1]])[:, :lengths_list[owners[r]]]
                finished[owners[r]].append((ids, value, rows_of, True))
        at_row, at_col = grows.nonzero(as_tuple=True)
        position = before[at_row, at_col]
        new_origin = torch.zeros(rows, beam, dtype=torch.long, device=device)
        new_token = torch.zeros(rows, beam, dtype=torch.long, device=device)
        log_prob = torch.full((rows, beam), float("-inf"), device=device)
        alive = torch.zeros(rows, beam, dtype=torch.bool, device=device)
        new_origin[at_row, position] = origin[at_row, at_col]
        new_token[at_row, position] = token[at_row, at_col]
        log_prob[at_row, position] = values[at_row, at_col]
        alive[at_row, position] = True
        counts = [len(finished[owner]) for owner in owners]
        keep = [r for r, live in enumerate(alive.any(1).tolist()) if live and counts[r] < beam]
        if not keep:
            owners = []
            break
        kept = torch.tensor(keep, dtype=torch.long, device=device)
        pick = (kept[:, None] * width + new_origin[kept]).view(-1)               # slot each new slot grows from
        state = state.select(pick)
        if len(keep) < rows or width != beam:                                   # a source's slots share its memory
            memory = memory.select((kept[:, None] * width).expand(-1, beam).reshape(-1))
        width = beam
        history = torch.cat([history[pick], new_token[kept].view(-1, 1)], dim=1)
        if step_weights is not None:
            grown = step_weights[pick].unsqueeze(1)
            weight_history = grown if weight_history is None else torch.cat([weight_history[pick], grown], dim=1)
        log_prob, alive = log_prob[kept], alive[kept]
        owners = [owners[r] for r in keep]
        inputs = new_token[kept].view(1, -1)
    for r, owner in enumerate(owners):                                           # out of steps: live ones count
        ids_of = history[r * width:(r + 1) * width].tolist() if history.size(1) else [[] for _ in range(width)]
        for j, (live, value) in enumerate(zip(alive[r].tolist(), log_prob[r].tolist())):
            if live:
                rows_of = None if weight_history is None else weight_history[r * width + j][:, :lengths_list[owner]]
                finished[owner].append((ids_of[j], value, rows_of, False))
    results = []
    for found in finished:
        ranked = sorted(((ids, value, value / length_normaliser(len(ids) + ended, length_penalty), rows)
                         for ids, value, rows, ended in found), key=lambda h: -h[2])
        results.append(ranked[:n_best])
    return results

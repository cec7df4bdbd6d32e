"""Batched beam search against beam search one source at a time, on tiny trained models."""

from __future__ import annotations

import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.tasks.seq2seq.data import make_batch
from rnnlab.tasks.seq2seq.model import Seq2Seq
from rnnlab.tasks.seq2seq.translate import beam_search, beam_search_batch, length_normaliser

from .seq2seq_tasks import reversal_pairs

BOS, EOS = 2, 3
LETTERS = "abcdef"


def ids_of(word: str) -> list[int]:
    return [4 + LETTERS.index(c) for c in word]


@torch.no_grad()
def one_at_a_time(model, source, lengths, bos_id, eos_id, beam, max_steps, length_penalty=0.0, n_best=1):
    """Beam search for one source as rnnlab first did it: a list of live hypotheses, one candidate
    at a time in topk order (the reference the batched search must reproduce)."""
    encoded = model.encode(source, lengths)
    state = model.initial_state(encoded)
    live = [([], 0.0, [])]
    finished = []
    inputs = torch.tensor([[bos_id]])
    memory = encoded
    for _ in range(max_steps):
        logits, state, weights = model.decode(inputs, memory, state)
        log_probs = torch.log_softmax(logits[0], dim=1)
        totals = torch.tensor([h[1] for h in live])[:, None] + log_probs
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
        state = state.select(torch.tensor(origins))
        memory = encoded.select(torch.zeros(len(origins), dtype=torch.long))
        inputs = torch.tensor([[ids[-1] for ids, _, _ in live]])
    else:
        finished.extend((ids, value, rows, False) for ids, value, rows in live)
    ranked = sorted(((ids, value, value / length_normaliser(len(ids) + ended, length_penalty),
                      torch.stack(rows) if rows else None) for ids, value, rows, ended in finished),
                    key=lambda h: -h[2])
    return ranked[:n_best]


def trained_model(decoder: str, cell: str = "lstm", bidirectional: bool = False) -> Seq2Seq:
    """A few hundred steps on string reversal: confident enough that </s> competes in the beam."""
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(cell=cell, layers=1, hidden=24, embed=12),
                    Seq2SeqConfig(decoder=decoder, bidirectional=bidirectional), 4 + len(LETTERS), 4 + len(LETTERS))
    pairs = [(ids_of(s), ids_of(t)) for s, t in reversal_pairs(512, seed=7, letters=LETTERS)]
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for step in range(120):
        chunk = pairs[(step % 16) * 32:(step % 16 + 1) * 32]
        batch = make_batch(chunk, list(range(len(chunk))), BOS, EOS)
        nll, count = model(batch.source, batch.source_lengths, batch.target_in, batch.target_out)
        optimiser.zero_grad()
        (nll / count).backward()
        optimiser.step()
    return model.eval()


SOURCES = ["abc", "fedcba", "a", "cafe", "bbbbb", "dea", "fa", "ecdbaf"]


@pytest.mark.parametrize("decoder,cell,bidirectional", [("plain", "gru", False), ("peeky", "lstm", True),
                                                         ("attention", "lstm", False)])
def test_batched_beam_search_finds_what_one_at_a_time_finds(decoder, cell, bidirectional):
    model = trained_model(decoder, cell, bidirectional)
    batch = make_batch([(ids_of(s), [4]) for s in SOURCES], list(range(len(SOURCES))), BOS, EOS)
    hypotheses_seen = 0
    for beam in (1, 3, 5):
        for alpha in (0.0, 0.8):
            for steps in (9, 3):                         # 3: some sources run out of steps mid-beam
                n_best = beam
                together = beam_search_batch(model, batch.source, batch.source_lengths, BOS, EOS, beam, steps,
                                             alpha, n_best)
                assert len(together) == len(SOURCES)
                for text, found in zip(SOURCES, together):
                    source = torch.tensor(ids_of(text))[:, None]
                    expected = one_at_a_time(model, source, torch.tensor([len(text)]), BOS, EOS, beam, steps,
                                             alpha, n_best)
                    assert [h[0] for h in found] == [h[0] for h in expected], (text, beam, alpha, steps)
                    for got, want in zip(found, expected):
                        assert got[1] == pytest.approx(want[1], abs=1e-4)
                        assert got[2] == pytest.approx(want[2], abs=1e-4)
                        if decoder == "attention":
                            assert got[3].shape == want[3].shape == (len(got[0]) + (steps > len(got[0])), len(text))
                            assert torch.allclose(got[3], want[3], atol=1e-5)
                        else:
                            assert got[3] is None and want[3] is None
                    hypotheses_seen += len(found)
                    alone = beam_search(model, source, torch.tensor([len(text)]), BOS, EOS, beam, steps, alpha, n_best)
                    assert [h[0] for h in alone] == [h[0] for h in expected]
    assert hypotheses_seen > 3 * len(SOURCES) * 2        # n-best lists of several hypotheses were compared


def test_the_trained_model_reverses_and_ends_its_outputs():
    model = trained_model("attention")
    batch = make_batch([(ids_of(s), [4]) for s in SOURCES[:4]], [0, 1, 2, 3], BOS, EOS)
    found = beam_search_batch(model, batch.source, batch.source_lengths, BOS, EOS, 3, 12, 0.6)
    right = sum(h[0][0] == ids_of(s[::-1]) for s, h in zip(SOURCES[:4], found))
    assert right >= 3


def test_every_decoding_step_is_timed_to_choose_threads_and_the_outputs_stay_the_same():
    from rnnlab.train.threads import ThreadTuner

    model = trained_model("attention")
    batch = make_batch([(ids_of(s), [4]) for s in SOURCES], list(range(len(SOURCES))), BOS, EOS)
    steps = []
    decode = model.decode
    model.decode = lambda *args: steps.append(1) or decode(*args)
    ticks = []
    tuner = ThreadTuner([1, 2], trial=2, clock=lambda: ticks.append(1) or float(len(ticks)))
    with_tuner = beam_search_batch(model, batch.source, batch.source_lengths, BOS, EOS, 3, 9, 0.6, threads=tuner)
    assert len(ticks) == 2 * len(steps) > 0                      # a clock reading before and after each step
    steps.clear()
    plain = beam_search_batch(model, batch.source, batch.source_lengths, BOS, EOS, 3, 9, 0.6)
    assert [[h[0] for h in found] for found in with_tuner] == [[h[0] for h in found] for found in plain]
    ticks.clear()
    steps.clear()
    greedy_ids, _, _ = model.greedy(batch.source, batch.source_lengths, BOS, EOS, 9, threads=tuner)
    assert len(ticks) == 2 * len(steps) > 0
    assert greedy_ids == model.greedy(batch.source, batch.source_lengths, BOS, EOS, 9)[0]

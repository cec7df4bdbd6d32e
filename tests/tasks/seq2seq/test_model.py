"""The encoder-decoder's parts: attention masks, the bidirectional encoder, padding, beam search."""

from __future__ import annotations

import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.tasks.seq2seq.config import Seq2SeqConfig
from rnnlab.tasks.seq2seq.data import make_batch
from rnnlab.tasks.seq2seq.translate import beam_search
from rnnlab.tasks.seq2seq.attention import Attention
from rnnlab.tasks.seq2seq.model import Seq2Seq

BOS, EOS = 2, 3


def model_of(decoder="attention", attention="dot", bidirectional=False, cell="lstm", layers=1, feeding=True, seed=0):
    torch.manual_seed(seed)
    config = ModelConfig(cell=cell, layers=layers, hidden=16, embed=8)
    seq = Seq2SeqConfig(decoder=decoder, attention=attention, bidirectional=bidirectional, input_feeding=feeding)
    return Seq2Seq(config, seq, 12, 10).eval()


@pytest.mark.parametrize("kind", ["dot", "general", "additive"])
def test_attention_weights_sum_to_one_over_real_tokens_and_padding_gets_none(kind):
    torch.manual_seed(1)
    attention = Attention(kind, 6)
    memory = torch.randn(5, 3, 6)                                  # (source, batch, size)
    lengths = torch.tensor([5, 3, 1])
    mask = torch.arange(5)[:, None] < lengths[None, :]
    with torch.no_grad():
        context, weights = attention(torch.randn(4, 3, 6), attention.keys(memory), memory, mask)
    assert context.shape == (4, 3, 6) and weights.shape == (4, 3, 5)
    assert torch.allclose(weights.sum(2), torch.ones(4, 3), atol=1e-6)
    assert float(weights[:, 1, 3:].abs().sum()) == 0.0 and float(weights[:, 2, 1:].abs().sum()) == 0.0
    assert bool((weights[:, 1, :3] > 0).all())


def test_backward_half_of_a_bidirectional_encoder_reads_the_last_token_first():
    model = model_of(bidirectional=True)
    source = torch.tensor([[4], [5], [6], [7]])                   # (source, batch)
    changed = source.clone()
    changed[-1, 0] = 8
    lengths = torch.tensor([4])
    with torch.no_grad():
        outputs = [model.encoder(model.source_embedding(s))[0] for s in (source, changed)]   # (source, 1, 2*hidden)
    forward_first = [o[0, 0, :16] for o in outputs]
    backward_first = [o[0, 0, 16:] for o in outputs]
    backward_last = [o[-1, 0, 16:] for o in outputs]
    assert torch.equal(forward_first[0], forward_first[1])        # forward at t=0 has seen only token 0
    assert not torch.allclose(backward_first[0], backward_first[1])   # backward at t=0 has seen everything
    assert not torch.allclose(backward_last[0], backward_last[1])     # ...and began with the last token
    assert model.encode(source, lengths).state[0].shape == (1, 1, 16)   # bridged to the decoder's size


@pytest.mark.parametrize("decoder,bidirectional,cell", [("attention", True, "lstm"), ("peeky", False, "gru"),
                                                         ("plain", True, "rnn"), ("attention", False, "gru")])
def test_padding_and_batching_do_not_change_one_examples_output(decoder, bidirectional, cell):
    model = model_of(decoder, bidirectional=bidirectional, cell=cell, layers=2)
    alone = make_batch([([4, 5, 6], [4, 5])], [0], BOS, EOS)
    together = make_batch([([4, 5, 6], [4, 5]), ([7, 8, 9, 10, 11, 4], [6, 7, 8, 9])], [0, 1], BOS, EOS)
    with torch.no_grad():
        nll_alone, _ = model(alone.source, alone.source_lengths, alone.target_in, alone.target_out)
        enc = model.encode(together.source, together.source_lengths)
        logits, _, _ = model.decode(together.target_in, enc, model.initial_state(enc))
        first = torch.nn.functional.cross_entropy(logits[:3, 0], together.target_out[:3, 0], reduction="sum")
    assert torch.allclose(nll_alone, first, atol=1e-5)
    greedy_alone = model.greedy(alone.source, alone.source_lengths, BOS, EOS, 8)
    greedy_batch = model.greedy(together.source, together.source_lengths, BOS, EOS, 8)
    assert greedy_alone[0][0] == greedy_batch[0][0]
    assert abs(float(greedy_alone[1][0]) - float(greedy_batch[1][0])) < 1e-4


@pytest.mark.parametrize("decoder,feeding", [("attention", True), ("attention", False), ("peeky", True), ("plain", True)])
def test_beam_of_width_one_is_greedy(decoder, feeding):
    model = model_of(decoder, feeding=feeding, seed=3)
    for source_ids in ([4, 5, 6], [9, 9, 10, 11, 4], [7]):
        source = torch.tensor(source_ids)[:, None]
        lengths = torch.tensor([len(source_ids)])
        ids, log_prob, _ = model.greedy(source, lengths, BOS, EOS, 9)
        best = beam_search(model, source, lengths, BOS, EOS, 1, 9)[0]
        assert best[0] == ids[0]
        assert abs(best[1] - float(log_prob[0])) < 1e-4


def test_wider_beams_find_at_least_greedys_log_probability():
    model = model_of("attention", seed=5)
    for source_ids in ([4, 5, 6], [9, 9, 10, 11, 4], [7, 8], [11, 10, 9, 8, 7, 6]):
        source = torch.tensor(source_ids)[:, None]
        lengths = torch.tensor([len(source_ids)])
        _, greedy_log_prob, _ = model.greedy(source, lengths, BOS, EOS, 20)
        found = beam_search(model, source, lengths, BOS, EOS, 6, 20, n_best=3)
        assert len(found) == 3
        assert found[0][1] >= float(greedy_log_prob[0]) - 1e-5
        assert [h[2] for h in found] == sorted((h[2] for h in found), reverse=True)


def test_attention_rows_of_greedy_decoding_sum_to_one():
    model = model_of("attention", attention="additive", bidirectional=True)
    batch = make_batch([([4, 5, 6], [4]), ([7, 8, 9, 10, 11], [5])], [0, 1], BOS, EOS)
    _, _, weights = model.greedy(batch.source, batch.source_lengths, BOS, EOS, 5)
    assert torch.allclose(weights.sum(2), torch.ones(weights.shape[:2]), atol=1e-5)
    assert float(weights[:, 0, 3:].sum()) == 0.0


def test_the_weights_moving_average_follows_the_weights_and_swaps_in_and_out():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(cell="lstm", layers=1, hidden=16, embed=8), Seq2SeqConfig(), 12, 10, average=0.9)
    names = [name for name in model.state_dict() if name.startswith("average_")]
    assert len(names) == len(list(model.parameters())) and "average_output_weight" in names
    weight, average = model.output.weight, model.average_output_weight
    with torch.no_grad():
        weight.add_(1.0)
    before = average.clone()
    model.update_average(step=1000)                                   # decay 0.9 by then
    assert torch.allclose(average, 0.9 * before + 0.1 * weight)
    model.update_average(step=0)                                      # the first steps forget the start: 0.1
    assert torch.allclose(average, 0.1 * (0.9 * before + 0.1 * weight) + 0.9 * weight)
    trained, averaged = weight.detach().clone(), average.clone()
    model.swap_average()
    assert torch.equal(weight, averaged) and torch.equal(average, trained)
    model.swap_average()
    assert torch.equal(weight, trained) and torch.equal(average, averaged)
    model.use_average()
    assert torch.equal(weight, averaged)
    plain = Seq2Seq(ModelConfig(cell="lstm", layers=1, hidden=16, embed=8), Seq2SeqConfig(), 12, 10)
    assert not [n for n in plain.state_dict() if n.startswith("average_")]   # runs without it keep their weights
    plain.update_average(step=5)
    plain.use_average()


def test_tied_weights_share_the_target_embedding_with_the_output_layer():
    model = Seq2Seq(ModelConfig(cell="lstm", layers=1, hidden=16, embed=16, tie_weights=True),
                    Seq2SeqConfig(), 12, 10, average=0.5)
    assert model.output.weight is model.target_embedding.weight
    assert sum(p.numel() for p in model.parameters()) < sum(
        p.numel() for p in Seq2Seq(ModelConfig(cell="lstm", layers=1, hidden=16, embed=16), Seq2SeqConfig(), 12, 10)
        .parameters())
    batch = make_batch([([4, 5, 6], [4, 5])], [0], BOS, EOS)
    model(batch.source, batch.source_lengths, batch.target_in, batch.target_out)[0].backward()
    assert model.target_embedding.weight.grad is not None

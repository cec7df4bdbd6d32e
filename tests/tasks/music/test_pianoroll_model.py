"""The piano-roll model's loss is the benchmark's frame NLL, computed by hand here and compared."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.tasks.pianoroll.config import PianorollConfig
from rnnlab.tasks.music.frames import training_frames
from rnnlab.tasks.pianoroll.model import KEYS, NadeHead, PianorollModel
from rnnlab.tasks.pianoroll.frame_nll import evaluate_frames, frames_batch


def tiny_model(head: str = "bernoulli", cell: str = "lstm") -> PianorollModel:
    torch.manual_seed(0)
    model = PianorollModel(ModelConfig(cell=cell, layers=1, hidden=8), PianorollConfig(frame_head=head, nade_hidden=6))
    return model.eval()


def random_sequences(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((n, KEYS)) < 0.05 for n in lengths]


def bernoulli_nll_by_hand(logits: list[float], frame: list[int]) -> float:
    total = 0.0
    for z, y in zip(logits, frame):
        p = 1 / (1 + math.exp(-z))
        total -= math.log(p) if y else math.log(1 - p)
    return total


def test_loss_is_summed_bernoulli_nll_of_scored_frames():
    model = tiny_model()
    stream = training_frames(random_sequences([4, 3], seed=1))            # (7, 89); frames 0 and 4 start pieces
    inputs, targets = stream[:-1, None], stream[1:, None]                 # (time, batch=1, 89)
    out = model(inputs, model.initial_state(1), targets)
    raw, _, _ = model.hidden(inputs, model.initial_state(1))
    logits = model.head.logits(raw[:, 0]).tolist()                        # (time, 88)
    expected = sum(bernoulli_nll_by_hand(logits[t], targets[t, 0, :KEYS].int().tolist())
                   for t in range(targets.size(0)) if targets[t, 0, KEYS] == 0)
    assert out.tokens == 5                                               # 6 targets, one is a piece start
    assert out.nll_sum.item() == pytest.approx(expected, rel=1e-5)


def test_protocol_resets_state_per_sequence_and_skips_first_frames():
    model = tiny_model()
    sequences = random_sequences([5, 2, 9, 1])                           # the 1-frame sequence has nothing to score
    result = evaluate_frames(model, sequences, "cpu", batch_size=3)
    total = 0.0
    for frames in sequences[:3]:
        batch = frames_batch([frames], KEYS)
        total += model(batch[:-1], model.initial_state(1), batch[1:]).nll_sum.item()
    assert result["frames"] == 4 + 1 + 8
    assert result["nll"] == pytest.approx(total / 13, rel=1e-5)


def test_batching_and_padding_do_not_change_the_protocol():
    model = tiny_model(cell="gru")
    sequences = random_sequences([7, 3, 12, 4, 4], seed=3)
    one = evaluate_frames(model, sequences, "cpu", batch_size=1)
    many = evaluate_frames(model, sequences, "cpu", batch_size=5)
    assert many["nll"] == pytest.approx(one["nll"], rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_piece_in_a_joined_stream_starts_from_the_zero_state(cell):
    """Training streams join pieces; each is read as the benchmark reads it, from the zero state."""
    torch.manual_seed(0)
    model = PianorollModel(ModelConfig(cell=cell, layers=2, hidden=8)).eval()
    pieces = random_sequences([5, 3, 6], seed=2)
    carried = [tuple(t + 0.5 for t in s) if isinstance(s, tuple) else s + 0.5 for s in model.initial_state(2)]
    stream = training_frames(pieces)                                       # (14, 89)
    other = training_frames(random_sequences([9, 5], seed=4))              # a second column, pieces elsewhere
    joined, _, _ = model.hidden(torch.stack([stream, other], 1), carried)
    alone = torch.cat([model.hidden(training_frames([p])[:, None], model.initial_state(1))[0] for p in pieces])
    assert torch.allclose(joined[:, 0], alone[:, 0], atol=1e-6)
    second = torch.cat([model.hidden(training_frames([p])[:, None], model.initial_state(1))[0]
                        for p in random_sequences([9, 5], seed=4)])
    assert torch.allclose(joined[:, 1], second[:, 0], atol=1e-6)


def test_nade_head_in_chunks_without_gradients_matches_one_pass():
    torch.manual_seed(0)
    head = NadeHead(8, nade_hidden=6)
    hidden, frames = torch.randn(50, 8), (torch.rand(50, KEYS) < 0.1).float()
    whole = head.frame_nll(hidden, frames)
    head.CHUNK = 16
    with torch.no_grad():
        assert torch.allclose(head.frame_nll(hidden, frames), whole, atol=1e-5)


def test_nade_head_is_a_normalised_distribution_over_frames():
    """Summing p(frame) over all 2^K frames of a 4-key NADE gives 1."""
    torch.manual_seed(0)
    head = NadeHead(hidden_size=5, keys=4, nade_hidden=3)
    with torch.no_grad():
        head.W.normal_(0, 1.0), head.V.normal_(0, 1.0)
    hidden = torch.randn(2, 5)
    frames = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))             # (16, 4)
    for row in hidden:
        nll = head.frame_nll(row.expand(16, 5), frames)
        assert torch.exp(-nll).sum().item() == pytest.approx(1.0, abs=1e-5)


def test_nade_key_j_depends_only_on_keys_below_it():
    torch.manual_seed(0)
    head = NadeHead(hidden_size=5, keys=6, nade_hidden=4)
    with torch.no_grad():
        head.W.normal_(0, 1.0)
    hidden = torch.randn(1, 5)
    base = torch.zeros(1, 6)
    changed = base.clone()
    changed[0, 3] = 1.0
    a, b = head.logits(hidden, base), head.logits(hidden, changed)
    assert torch.allclose(a[0, :4], b[0, :4]) and not torch.allclose(a[0, 4:], b[0, 4:])


@pytest.mark.parametrize("head", ["bernoulli", "nade"])
def test_sampling_a_frame(head):
    model = tiny_model(head)
    inputs = torch.zeros(3, 2, KEYS + 1)
    generator = torch.Generator().manual_seed(0)
    frame, state = model.step_frame(inputs, model.initial_state(2), temperature=1.0, top_k=2, generator=generator)
    assert frame.shape == (2, KEYS)
    assert set(frame.unique().tolist()) <= {0.0, 1.0}
    assert (frame.sum(1) <= 2).all()


def test_weight_drop_draws_one_mask_per_window_across_piece_starts():
    """DropConnect on the recurrent weights: one mask for the whole window, also for a piece starting in it."""
    torch.manual_seed(0)
    model = PianorollModel(ModelConfig(cell="lstm", layers=2, hidden=8, weight_drop=0.5)).train()
    pieces = random_sequences([5, 4], seed=5)
    stream = training_frames(pieces)[:, None]                              # (9, 1, 89): a piece starts at 5
    torch.manual_seed(7)
    joined, _, _ = model.hidden(stream, model.initial_state(1))
    torch.manual_seed(7)
    params = {name: torch.nn.functional.dropout(w, 0.5, True) if name.endswith("weight_hh_l0") else w
              for name, w in model.recurrent.named_parameters()}
    alone = torch.cat([torch.func.functional_call(model.recurrent, params,
                                                  (training_frames([p])[:, None], model.initial_state(1)))[0]
                       for p in pieces])
    assert torch.allclose(joined, alone, atol=1e-6)
    plain, _, _ = model.eval().hidden(stream, model.initial_state(1))     # no mask outside training
    assert not torch.allclose(joined, plain, atol=1e-3)
    assert torch.equal(plain, model.hidden(stream, model.initial_state(1))[0])


def test_average_follows_the_weights_and_swaps_back():
    torch.manual_seed(0)
    model = PianorollModel(ModelConfig(cell="lstm", layers=1, hidden=8), average=0.5)
    assert "average_head_project_weight" in model.state_dict()
    weight = model.head.project.weight
    history = []
    for step in range(4):
        model.update_average(step)
        history.append(weight.detach().clone())
        with torch.no_grad():
            weight.add_(1.0)
    expected = history[0]
    for step, value in enumerate(history):
        decay = min(0.5, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * value
    trained = weight.detach().clone()
    model.swap_average()
    assert torch.allclose(weight, expected) and not torch.allclose(weight, trained)
    model.swap_average()
    assert torch.equal(weight, trained)
    model.use_average()
    assert torch.allclose(weight, expected)
    assert "average_head_project_weight" not in PianorollModel(ModelConfig(layers=1, hidden=8)).state_dict()


def test_validation_in_training_scores_the_averaged_weights():
    from rnnlab.config import TrainConfig
    from rnnlab.train.distributed import Placement
    from rnnlab.train.evaluate import evaluate_stream
    from rnnlab.train.loop import Trainer
    from rnnlab.train.stream import StreamObjective

    torch.manual_seed(0)
    model = PianorollModel(ModelConfig(cell="lstm", layers=1, hidden=8), average=0.5)
    with torch.no_grad():
        model.average_head_project_weight.add_(0.3)                          # an average unlike the weights
    stream = training_frames(random_sequences([6, 5, 7], seed=6))
    config = TrainConfig(batch_size=2, bptt=4, eval_batch_size=2)
    placement = Placement(0, 1, torch.device("cpu"))
    trainer = Trainer(model, StreamObjective(stream, stream, config, placement, unit="nll"), config, placement, run=None)
    trained = model.head.project.weight.detach().clone()
    scored = trainer.validate()["valid_loss"]
    assert torch.equal(model.head.project.weight, trained)                  # swapped back afterwards
    last = evaluate_stream(model, stream, 2, 4, "cpu")["nll"]
    model.use_average()
    averaged = evaluate_stream(model, stream, 2, 4, "cpu")["nll"]
    assert scored == pytest.approx(averaged, rel=1e-6) and scored != pytest.approx(last, rel=1e-3)

import itertools

import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.generate.sampling import SamplingConfig, beam_search, draw, filter_logits, sample
from rnnlab.tasks.language_model.model import LanguageModel


def test_top_k_keeps_k():
    logits = torch.tensor([[1.0, 5.0, 3.0, 2.0]])
    kept = torch.isfinite(filter_logits(logits, 2, 1.0))
    assert kept.tolist() == [[False, True, True, False]]


def test_top_p_keeps_smallest_set_reaching_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = torch.isfinite(filter_logits(probs.log(), 0, 0.7))
    assert kept.tolist() == [[True, True, False, False]]
    assert torch.isfinite(filter_logits(probs.log(), 0, 0.01)).sum() == 1


def tiny_model():
    torch.manual_seed(0)
    return LanguageModel(ModelConfig(cell="gru", layers=1, hidden=8), vocab_size=6).eval()


def sequence_logprob(model, prime, tokens):
    total, state = 0.0, model.initial_state(1)
    logits, state = model.step_logits(torch.tensor(prime).view(-1, 1), state)
    for t in tokens:
        total += logits.log_softmax(-1)[0, t].item()
        logits, state = model.step_logits(torch.tensor([[t]]), state)
    return total


def test_draw_follows_the_probabilities_and_never_picks_an_impossible_token():
    torch.manual_seed(0)
    probs = torch.softmax(3 * torch.randn(4, 30), -1)
    probs[:, [0, 11, 29]] = 0                                   # first, middle and last: never drawn
    probs[3] = 0
    probs[3, 29] = 1                                            # only the last one is possible
    generator = torch.Generator().manual_seed(7)
    draws = torch.stack([draw(probs, generator) for _ in range(20000)])      # (20000, 4)
    counts = torch.stack([torch.bincount(draws[:, row], minlength=30) for row in range(4)]).float()
    assert counts[:, [0, 11]].sum() == 0 and counts[:3, 29].sum() == 0
    assert counts[3, 29] == 20000
    frequencies = counts / 20000
    assert torch.allclose(frequencies, probs / probs.sum(-1, keepdim=True), atol=0.012)


def test_draw_is_repeatable_with_a_seed():
    probs = torch.softmax(torch.randn(5, 1000), -1)
    first = [draw(probs, torch.Generator().manual_seed(3)) for _ in range(2)]
    assert torch.equal(first[0], first[1])
    others = torch.stack([draw(probs, torch.Generator().manual_seed(seed)) for seed in range(4, 24)])
    assert (others != first[0]).any(-1).sum() >= 15           # other seeds, other draws


def test_beam_finds_the_best_sequence_of_length_three():
    model = tiny_model()
    best = max(itertools.product(range(6), repeat=3), key=lambda seq: sequence_logprob(model, [1], list(seq)))
    assert beam_search(model, [1], 3, beam=36, device="cpu") == list(best)


def test_greedy_matches_beam_of_one_and_is_at_most_beam():
    model = tiny_model()
    greedy = sample(model, [2], SamplingConfig(length=4, greedy=True), "cpu")
    wide = beam_search(model, [2], 4, beam=5, device="cpu")
    assert sequence_logprob(model, [2], wide) >= sequence_logprob(model, [2], greedy) - 1e-9


def test_seeded_sampling_is_reproducible():
    model = tiny_model()
    config = SamplingConfig(length=15, seed=11)
    assert sample(model, [0], config, "cpu") == sample(model, [0], config, "cpu")


def test_one_definition_of_the_settings_for_every_client():
    from rnnlab.generate.sampling import LIVE_SETTINGS, SamplingConfig

    assert LIVE_SETTINGS == ("temperature", "top_k", "top_p", "greedy", "seed")
    base = SamplingConfig()
    changed = base.changed({"temperature": 2, "top_k": 16.0, "seed": 3.0, "greedy": True})
    assert changed.live() == {"temperature": 2.0, "top_k": 16, "top_p": 1.0, "greedy": True, "seed": 3}
    assert isinstance(changed.top_k, int) and base.top_k == 0                 # a copy; the base is unchanged
    for bad, reason in (({"seed": 1.5}, "seed must be int"), ({"top_k": "5"}, "top_k must be int"),
                        ({"greedy": 1}, "greedy must be bool"), ({"beam": 3}, "unknown setting 'beam'"),
                        ({"temperature": 0.0}, "temperature must be a positive number"),
                        ({"top_p": 1.5}, "top_p must be in")):
        with pytest.raises(ValueError, match=reason):
            base.changed(bad)


def test_the_command_line_flags_come_from_the_same_fields():
    import argparse

    from rnnlab.generate.sampling import add_sampling_flags, sampling_from_args

    parser = argparse.ArgumentParser()
    add_sampling_flags(parser, ("temperature", "top_k", "greedy"), temperature=0.8)
    args = parser.parse_args(["--top-k", "7", "--greedy"])
    config = sampling_from_args(args)
    assert (config.temperature, config.top_k, config.greedy, config.top_p) == (0.8, 7, True, 1.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["--top-p", "0.5"])                 # only the settings asked for become flags

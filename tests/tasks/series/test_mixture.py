"""The Gaussian and mixture-density heads against torch.distributions, and the series model's contract."""

import math

import torch
from torch.distributions import Categorical, MixtureSameFamily, Independent, Normal

from rnnlab.config import ModelConfig
from rnnlab.tasks.series.mixture import GaussianHead, MixtureDensityHead
from rnnlab.tasks.series.model import SeriesModel


def test_mdn_nll_matches_torch_distributions():
    torch.manual_seed(0)
    head = MixtureDensityHead(8, features=2, components=3)
    params = head(torch.randn(6, 8))
    target = torch.randn(6, 2)
    logits, means, log_std = head.split(params)
    reference = MixtureSameFamily(Categorical(logits=logits), Independent(Normal(means, log_std.exp()), 1))
    assert torch.allclose(head.nll(params, target), -reference.log_prob(target), atol=1e-5)
    assert torch.allclose(head.point(params), reference.mean, atol=1e-6)


def test_gaussian_nll_is_scaled_mse_plus_constant():
    head = GaussianHead(4, features=2)
    params = head(torch.randn(5, 4))
    target = torch.randn(5, 2)
    mean = head.point(params)
    expected = 0.5 * ((target - mean) ** 2).sum(-1) + 2 * 0.5 * math.log(2 * math.pi)   # log_std starts at 0
    assert torch.allclose(head.nll(params, target), expected, atol=1e-6)


def test_series_model_contract_and_pen_masking():
    torch.manual_seed(0)
    model = SeriesModel(ModelConfig(hidden=16, layers=1), features=5, pen=True, head="mdn", mixtures=2)
    inputs = torch.randn(7, 3, 5)
    targets = torch.zeros(7, 3, 5)
    targets[..., 4] = 1.0                                   # every target is `end`: only the pen is scored
    out = model(inputs, model.initial_state(3), targets)
    assert out.tokens == 21 and out.nll_sum.shape == ()
    params = model.params(model.recurrent(inputs, model.initial_state(3))[0])
    pen_only = -params[..., -3:].log_softmax(-1)[..., 2].sum()
    assert torch.allclose(out.nll_sum, pen_only, atol=1e-4)
    out.nll_sum.backward()
    step, state = model.step_logits(inputs[:2], model.initial_state(3))
    assert step.shape == (3, model.param_size)
    row = model.sample(step, temperature=0.5)
    assert row.shape == (3, 5) and torch.all(row[:, 2:].sum(-1) == 1)


def test_mdn_learns_a_bimodal_target():
    """A mixture head fits a two-valued target that a single Gaussian averages away."""
    torch.manual_seed(0)
    head = MixtureDensityHead(1, features=1, components=2)
    optimiser = torch.optim.Adam(head.parameters(), lr=0.05)
    target = torch.where(torch.rand(512, 1) < 0.5, -2.0, 2.0)
    for _ in range(300):
        optimiser.zero_grad()
        loss = head.nll(head(torch.ones(512, 1)), target).mean()
        loss.backward()
        optimiser.step()
    samples = head.sample(head(torch.ones(400, 1)), 1.0, False, torch.Generator().manual_seed(1))
    assert (samples.abs() > 1.0).float().mean() > 0.9                # near the two modes, not at 0

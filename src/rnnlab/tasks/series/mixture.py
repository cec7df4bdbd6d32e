"""Output heads for continuous vectors: a diagonal Gaussian and a mixture density network.

Each head maps hidden states (..., hidden) to a flat parameter vector (..., param_size) and knows
its own negative log-likelihood, its point forecast and how to sample. Temperature follows
sketch-rnn: it sharpens the mixture weights and scales the variances.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LOG_STD_RANGE = (-7.0, 5.0)
HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(x; mean, exp(log_std)^2)."""
    return -0.5 * ((x - mean) * torch.exp(-log_std)).pow(2) - log_std - HALF_LOG_TWO_PI


class GaussianHead(nn.Module):
    """Mean from the hidden state, one learned spread per feature: the NLL is a scaled MSE plus a constant,
    so the mean is the MSE forecast and the spread becomes the typical error."""

    def __init__(self, hidden_size: int, features: int):
        super().__init__()
        self.features = features
        self.mean = nn.Linear(hidden_size, features)
        self.log_std = nn.Parameter(torch.zeros(features))

    @property
    def param_size(self) -> int:
        return 2 * self.features

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        mean = self.mean(hidden)                                         # (..., features)
        return torch.cat([mean, self.log_std.clamp(*LOG_STD_RANGE).expand_as(mean)], dim=-1)

    def split(self, params):
        return params[..., :self.features], params[..., self.features:]

    def nll(self, params: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(...,): -log p(target), summed over features."""
        mean, log_std = self.split(params)
        return -gaussian_log_prob(target, mean, log_std).sum(-1)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        return self.split(params)[0]

    def sample(self, params, temperature: float, greedy: bool, generator=None) -> torch.Tensor:
        mean, log_std = self.split(params)
        if greedy:
            return mean
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + noise * log_std.exp() * math.sqrt(temperature)


class MixtureDensityHead(nn.Module):
    """K diagonal Gaussians and their weights (Bishop 1994; Graves 2013; sketch-rnn)."""

    def __init__(self, hidden_size: int, features: int, components: int):
        super().__init__()
        self.features, self.components = features, components
        self.project = nn.Linear(hidden_size, self.param_size)

    @property
    def param_size(self) -> int:
        return self.components * (1 + 2 * self.features)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.project(hidden)

    def split(self, params):
        """Weight logits (..., K), means and log spreads (..., K, features)."""
        k, f = self.components, self.features
        logits = params[..., :k]
        means = params[..., k:k + k * f].unflatten(-1, (k, f))
        log_std = params[..., k + k * f:].unflatten(-1, (k, f)).clamp(*LOG_STD_RANGE)
        return logits, means, log_std

    def nll(self, params: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits, means, log_std = self.split(params)
        per_component = gaussian_log_prob(target.unsqueeze(-2), means, log_std).sum(-1)   # (..., K)
        return -torch.logsumexp(logits.log_softmax(-1) + per_component, dim=-1)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """The mixture's mean (the forecast that minimises expected squared error)."""
        logits, means, _ = self.split(params)
        return (logits.softmax(-1).unsqueeze(-1) * means).sum(-2)

    def sample(self, params, temperature: float, greedy: bool, generator=None) -> torch.Tensor:
        """(batch, features) from params (batch, P); greedy: the mean of the likeliest component."""
        logits, means, log_std = self.split(params)
        if greedy:
            pick = logits.argmax(-1)
        else:
            weights = (logits / temperature).softmax(-1)
            pick = torch.multinomial(weights, 1, generator=generator).squeeze(-1)
        rows = torch.arange(means.size(0), device=means.device)
        mean, spread = means[rows, pick], log_std[rows, pick].exp()                       # (batch, features)
        if greedy:
            return mean
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + noise * spread * math.sqrt(temperature)


class PenHead(nn.Module):
    """Softmax over pen states (down, up, end) for stroke data."""

    def __init__(self, hidden_size: int, states: int = 3):
        super().__init__()
        self.states = states
        self.project = nn.Linear(hidden_size, states)

    param_size = property(lambda self: self.states)

    def forward(self, hidden):
        return self.project(hidden)

    def nll(self, logits: torch.Tensor, target_one_hot: torch.Tensor) -> torch.Tensor:
        return -(logits.log_softmax(-1) * target_one_hot).sum(-1)

    def sample(self, logits, temperature: float, greedy: bool, generator=None) -> torch.Tensor:
        """One-hot (batch, states)."""
        if greedy:
            state = logits.argmax(-1)
        else:
            state = torch.multinomial((logits / temperature).softmax(-1), 1, generator=generator).squeeze(-1)
        return F.one_hot(state, self.states).to(logits.dtype)

"""What every stream model's forward gives the training loop: the summed loss, how many targets it
covers, the state to carry, and the regularisation penalty."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnlab.models.recurrent import State


@dataclass
class LMOutput:
    nll_sum: torch.Tensor | None      # summed NLL of the targets (nats)
    tokens: int                       # number of targets
    state: State                      # carried to the next window
    penalty: torch.Tensor | None      # AR / TAR regularisation (training only)

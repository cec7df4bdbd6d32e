"""The softmax output layer and its loss.

At word level the projection to the vocabulary is most of the work, and its (tokens, vocab)
logits do not fit the cache. `linear_cross_entropy` therefore computes loss and gradients
chunk by chunk in one pass while the chunk's logits are still in cache, and hands the
gradients to autograd: the same numbers as log_softmax + nll_loss, fewer trips to memory.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CHUNK_ROWS = 128


class _LinearCrossEntropy(torch.autograd.Function):
    """Summed NLL of targets under softmax(hidden @ weight.T + bias); grads computed in forward."""

    @staticmethod
    def forward(ctx, hidden, weight, bias, targets):
        needs_grad = any(ctx.needs_input_grad[:3])
        total = hidden.new_zeros(())
        grad_hidden = torch.empty_like(hidden) if needs_grad else None
        grad_weight = torch.zeros_like(weight) if needs_grad else None
        grad_bias = torch.zeros_like(bias) if needs_grad else None
        for start in range(0, hidden.size(0), CHUNK_ROWS):
            rows = hidden[start:start + CHUNK_ROWS]                     # (n, hidden)
            wanted = targets[start:start + CHUNK_ROWS]
            logits = torch.addmm(bias, rows, weight.t())                # (n, vocab)
            log_norm = torch.logsumexp(logits, dim=1)
            total += (log_norm - logits.gather(1, wanted[:, None]).squeeze(1)).sum()
            if needs_grad:
                grad_logits = logits.sub_(log_norm[:, None]).exp_()     # softmax, in place
                grad_logits[torch.arange(rows.size(0), device=rows.device), wanted] -= 1
                torch.mm(grad_logits, weight, out=grad_hidden[start:start + CHUNK_ROWS])
                grad_weight.addmm_(grad_logits.t(), rows)
                grad_bias += grad_logits.sum(0)
        ctx.save_for_backward(grad_hidden, grad_weight, grad_bias)
        return total

    @staticmethod
    def backward(ctx, grad_total):
        grad_hidden, grad_weight, grad_bias = ctx.saved_tensors
        return grad_hidden * grad_total, grad_weight * grad_total, grad_bias * grad_total, None


def linear_cross_entropy(hidden, weight, bias, targets) -> torch.Tensor:
    """Sum over rows of -log softmax(hidden @ weight.T + bias)[target]; hidden (N, H), targets (N,)."""
    return _LinearCrossEntropy.apply(hidden, weight, bias, targets)


class SoftmaxHead(nn.Module):
    """hidden -> (projection when tied and sizes differ) -> logits over the vocabulary."""

    def __init__(self, hidden_size: int, vocab_size: int, embed_size: int, tied: nn.Embedding | None,
                 fused: bool = True):
        super().__init__()
        self.fused = fused
        self.project = nn.Linear(hidden_size, embed_size, bias=False) if tied is not None and embed_size != hidden_size else None
        in_size = embed_size if tied is not None else hidden_size
        self.decoder = nn.Linear(in_size, vocab_size)
        if tied is not None:
            self.decoder.weight = tied.weight

    def features(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.project(hidden) if self.project is not None else hidden

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits (..., vocab) for hidden (..., hidden)."""
        return self.decoder(self.features(hidden))

    def nll_sum(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Summed NLL in nats; hidden (time, batch, hidden), targets (time, batch)."""
        flat = self.features(hidden).reshape(-1, self.decoder.in_features)   # (time*batch, features)
        flat_targets = targets.reshape(-1)
        if self.fused and flat.dtype == torch.float32:
            return linear_cross_entropy(flat, self.decoder.weight, self.decoder.bias, flat_targets)
        return F.cross_entropy(self.decoder(flat), flat_targets, reduction="sum")

"""The softmax output layer and its loss.

At word level the projection to the vocabulary is most of the work, and its (tokens, vocab)
logits do not fit the cache. `linear_cross_entropy` therefore computes loss and gradients
chunk by chunk in one pass while the chunk's logits are still in cache, and hands the
gradients to autograd: the same numbers as log_softmax + nll_loss, fewer trips to memory. On a
GPU, where each small block would cost kernel launches instead, the rows go as one block.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CHUNK_ROWS = 32          # rows of logits worked on while they sit in L2 (32 x 10k floats = 1.3 MB)


def _onednn(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor | None:
    """inputs @ weight.T (+ bias) through oneDNN's inner product, or None where it is unavailable.

    On the CPUs we measured, oneDNN's kernels beat the default BLAS path by 10-25% at these
    shapes, transposed operands included (it reads strides, so no copies are made).
    """
    if inputs.device.type != "cpu" or inputs.dtype != torch.float32 or not torch.backends.mkldnn.is_available():
        return None
    try:
        return torch.ops.mkldnn._linear_pointwise(inputs, weight, bias, "none", [], "")
    except (RuntimeError, AttributeError):   # an older build without the op
        return None


def _matmul_t(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """inputs @ weight.T (+ bias), by the fastest kernel at hand."""
    out = _onednn(inputs, weight, bias)
    if out is not None:
        return out
    return torch.addmm(bias, inputs, weight.t()) if bias is not None else inputs @ weight.t()


class _LinearCrossEntropy(torch.autograd.Function):
    """Summed NLL of targets under softmax(hidden @ weight.T + bias); grads computed in forward.

    The logits buffer becomes the gradient in place, a cache-sized block of rows at a time
    (max, target logit, one exp, normalise, minus one-hot); two GEMMs then give the hidden
    and weight gradients.
    """

    @staticmethod
    def forward(ctx, hidden, weight, bias, targets, low_precision=None):
        needs_grad = any(ctx.needs_input_grad[:3])
        if low_precision is not None:     # the three products in bf16 or fp16; the bias is added in fp32 below
            features, matrix = hidden.to(low_precision), weight.to(low_precision)
            grads = _matmul_t(features, matrix)
        else:
            features, matrix = hidden, weight
            grads = _matmul_t(features, matrix, bias)                     # (rows, vocab), reused in place
        total = hidden.new_zeros((), dtype=torch.float64)
        exact = torch.float32 if low_precision is not None else grads.dtype           # where the softmax is done
        grad_bias = torch.zeros(weight.size(0), dtype=exact, device=weight.device) if needs_grad else None
        rows = torch.arange(hidden.size(0), device=hidden.device)
        chunk = CHUNK_ROWS if hidden.device.type == "cpu" else max(hidden.size(0), 1)
        for start in range(0, hidden.size(0), chunk):
            stored, wanted = grads[start:start + chunk], targets[start:start + chunk]
            block = stored.to(exact)                                      # the same tensor, unless bf16
            if low_precision is not None and bias is not None:
                block.add_(bias)
            index = rows[:block.size(0)]
            top = block.amax(dim=1, keepdim=True)
            target_logit = block[index, wanted]
            block.sub_(top).exp_()                                        # exp(logit - max)
            norm = block.sum(dim=1)
            total += (top.squeeze(1) + norm.log() - target_logit).sum(dtype=torch.float64)
            if needs_grad:
                block.mul_(norm.reciprocal()[:, None])                    # softmax
                block[index, wanted] -= 1                                 # d loss / d logits
                grad_bias += block.sum(0)
                if block.data_ptr() != stored.data_ptr():
                    stored.copy_(block)
        if needs_grad:
            grad_hidden = _matmul_t(grads, matrix.t()).to(hidden.dtype)                 # (rows, hidden) = G @ W
            grad_weight = _matmul_t(features.t(), grads.t()).t().to(weight.dtype)       # (vocab, features) = G.T @ h
            ctx.save_for_backward(grad_hidden, grad_weight, grad_bias.to(weight.dtype))
        return total.to(exact)

    @staticmethod
    def backward(ctx, grad_total):
        grad_hidden, grad_weight, grad_bias = ctx.saved_tensors
        return grad_hidden * grad_total, grad_weight * grad_total, grad_bias * grad_total, None, None


def linear_cross_entropy(hidden, weight, bias, targets, low_precision: torch.dtype | None = None) -> torch.Tensor:
    """Sum over rows of -log softmax(hidden @ weight.T + bias)[target]; hidden (N, H), targets (N,).

    `low_precision=torch.bfloat16` runs the three products in bf16 (several times faster on CPUs with
    AMX or AVX-512 BF16); the softmax, the loss and the bias gradient stay in fp32.
    """
    return _LinearCrossEntropy.apply(hidden, weight, bias, targets, low_precision)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The lower precision autocast runs products in on `device` (bf16 training), or None when it is off."""
    try:
        enabled, dtype = torch.is_autocast_enabled(device.type), torch.get_autocast_dtype(device.type)
    except (TypeError, AttributeError):          # PyTorch before 2.4: one function per device kind
        if device.type == "cpu":
            enabled, dtype = torch.is_autocast_cpu_enabled(), torch.get_autocast_cpu_dtype()
        else:
            enabled, dtype = torch.is_autocast_enabled(), torch.get_autocast_gpu_dtype()
    return dtype if enabled else None


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
        low_precision = autocast_dtype(flat.device)
        if self.fused and (flat.dtype == torch.float32 or low_precision is not None):
            return linear_cross_entropy(flat, self.decoder.weight, self.decoder.bias, flat_targets, low_precision)
        return F.cross_entropy(self.decoder(flat), flat_targets, reduction="sum")

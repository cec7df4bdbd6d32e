"""Perplexity with the standard protocol: state carried across the whole stream, no dropout."""

from __future__ import annotations

import math

import torch

from rnnlab.data.streams import batchify, windows
from rnnlab.errors import RnnlabError
from rnnlab.progress import progress_bar
from rnnlab.train.threads import ThreadTuner, timed


def usable_batch_size(tokens: int, requested: int) -> int:
    """The requested number of streams, fewer when the text is too short for it."""
    if tokens < 2:
        raise RnnlabError(f"only {tokens} tokens to evaluate on; need at least 2")
    return max(1, min(requested, tokens // 2))


@torch.no_grad()
def evaluate_stream(model, ids: torch.Tensor, batch_size: int, bptt: int, device,
                    threads: ThreadTuner | None = None) -> dict:
    """Mean NLL (nats/token) and perplexity of `ids` read as `batch_size` parallel streams; `threads`
    times the windows to pick the CPU thread count (None: the count as it is)."""
    was_training = model.training
    model.eval()
    batch_size = usable_batch_size(ids.size(0), batch_size)
    data = batchify(ids, batch_size).to(device)                 # (steps, batch), on the device once
    state = model.initial_state(batch_size)
    total, count = torch.zeros((), dtype=torch.float64, device=device), 0     # summed there, read once
    with progress_bar(total=data.size(0) * batch_size, desc="evaluate", unit="tok", unit_scale=True) as bar:
        for _, inputs, targets in windows(data, bptt):
            with timed(threads):
                out = model(inputs, state, targets)
            total += torch.as_tensor(out.nll_sum, dtype=torch.float64, device=device)   # a tensor, or NumPy's
            count += out.tokens
            state = out.state
            bar.update(inputs.numel())
    model.train(was_training)
    nll = total.item() / count
    return {"nll": nll, "perplexity": math.exp(min(nll, 700)), "bpc": nll / math.log(2),
            "tokens": count, "batch_size": batch_size}

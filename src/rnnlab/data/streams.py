"""Stateful truncated-BPTT batching: one token stream cut into parallel columns.

`batchify` lays a 1-D id stream out as (time, batch): each column is a contiguous slice of the
text, so the hidden state carried from one window to the next continues the same column.
Under DistributedDataParallel each rank takes its own block of columns.
"""

from __future__ import annotations

import random
from typing import Iterator

import torch

from rnnlab.errors import RnnlabError


def batchify(ids: torch.Tensor, batch_size: int, rank: int = 0, world_size: int = 1,
             name: str = "data") -> torch.Tensor:
    """(time, batch, ...) view of this rank's columns; the tail that fills no full row is dropped.

    `ids` is (length,) for token ids or (length, features) for frames and vectors.
    """
    columns = batch_size * world_size
    steps = ids.size(0) // columns
    if steps < 2:
        raise RnnlabError(f"{name}: only {ids.size(0)} steps, too few for {columns} parallel streams; "
                          "lower --batch-size or use more data")
    data = ids[: steps * columns].reshape(columns, steps, *ids.shape[1:]).transpose(0, 1)   # (time, world*batch, ...)
    return data[:, rank * batch_size:(rank + 1) * batch_size].contiguous()


def window_length(bptt: int, variable: bool, seed: int, epoch: int, start: int) -> int:
    """BPTT length of the window starting at `start`; AWD-LSTM's random length when variable.

    Seeded by position, so a resumed run draws exactly the lengths an uninterrupted one drew.
    """
    if not variable:
        return bptt
    rng = random.Random(hash((seed, epoch, start)))
    base = bptt if rng.random() < 0.95 else bptt / 2
    return max(5, int(rng.gauss(base, 5)))


def windows(data: torch.Tensor, bptt: int, start: int = 0, variable: bool = False,
            seed: int = 0, epoch: int = 0) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Yield (start, inputs, targets), each (time, batch), walking the stream from `start`."""
    position = start
    while position < data.size(0) - 1:
        length = min(window_length(bptt, variable, seed, epoch, position), data.size(0) - 1 - position)
        yield position, data[position:position + length], data[position + 1:position + 1 + length]
        position += length


def count_windows(data: torch.Tensor, bptt: int, variable: bool, seed: int, epoch: int) -> int:
    return sum(1 for _ in windows(data, bptt, 0, variable, seed, epoch))

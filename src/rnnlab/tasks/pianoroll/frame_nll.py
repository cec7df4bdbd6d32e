"""The polyphonic benchmark's frame-level NLL: whole sequences, state reset, first frame unscored.

For every sequence the model reads frames 1..T-1 from a zero state and predicts frames 2..T;
a frame's NLL is summed over the 88 keys, and the figure is the mean over all scored frames
of the split (Boulanger-Lewandowski et al. 2012). Sequences are padded into batches; padded
frames carry the piece-start mark, which the model never scores, so batching changes nothing.
"""

from __future__ import annotations

import numpy as np
import torch


def frames_batch(sequences: list[np.ndarray], keys: int) -> torch.Tensor:
    """(time, batch, keys + 1): each sequence's frames, its first frame and the padding marked."""
    length = max(len(s) for s in sequences)
    batch = torch.zeros(length, len(sequences), keys + 1)
    batch[:, :, keys] = 1.0
    for column, frames in enumerate(sequences):
        batch[:len(frames), column, :keys] = torch.as_tensor(np.asarray(frames), dtype=torch.float32)
        batch[1:len(frames), column, keys] = 0.0
    return batch


@torch.no_grad()
def evaluate_frames(model, sequences: list[np.ndarray], device, batch_size: int = 16) -> dict:
    """Mean frame NLL (nats per scored frame) over `sequences`, each (steps, keys) of 0/1."""
    was_training = model.training
    model.eval()
    keys = model.keys
    usable = sorted((s for s in sequences if len(s) >= 2), key=len)
    total, frames = 0.0, 0
    for start in range(0, len(usable), batch_size):
        batch = frames_batch(usable[start:start + batch_size], keys).to(device)
        out = model(batch[:-1], model.initial_state(batch.size(1)), batch[1:])
        total += out.nll_sum.item()
        frames += sum(len(s) - 1 for s in usable[start:start + batch_size])
    model.train(was_training)
    return {"nll": total / max(frames, 1), "frames": frames, "sequences": len(usable)}

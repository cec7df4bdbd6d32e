"""torchrun / DistributedDataParallel plumbing: who am I, which device, how to share an epoch's
batches and the results.

Launched by `torchrun`, the environment carries RANK and WORLD_SIZE; otherwise the run is a
single process. gloo on CPU, nccl on CUDA.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from rnnlab.errors import RnnlabError


@dataclass
class Placement:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_as_main() -> bool:
    """Whether this process is the first (or only) one of its launch, before any group is set up."""
    return int(os.environ.get("RANK", "0")) == 0


def pick_device(requested: str, local_rank: int = 0) -> torch.device:
    """auto: this process's GPU when there is one, else the CPU; a device that is not here is an error."""
    if requested == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(f"cuda:{local_rank}" if requested == "cuda" else requested)
    except RuntimeError:
        raise RnnlabError(f"--device {requested!r}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise RnnlabError(f"--device {requested}: no CUDA GPU here (this PyTorch "
                              f"{'has no CUDA support' if not torch.backends.cuda.is_built() else 'sees none'}); "
                              "use --device cpu or auto")
        if (device.index or 0) >= count:
            raise RnnlabError(f"--device {requested}: this machine has {count} GPU(s), cuda:0..cuda:{count - 1}")
    elif device.type != "cpu":
        raise RnnlabError(f"--device {requested!r}: rnnlab runs on cpu or cuda")
    return device


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A batch onto `device`; to a GPU from page-locked memory, without waiting for the copy to land
    (work queued after it on the GPU waits for it there, not the Python side)."""
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    if not tensor.is_pinned():
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)


def pinned(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`tensor` in page-locked memory when batches of it go to a GPU (its windows are then pinned too)."""
    return tensor.pin_memory() if device.type == "cuda" and tensor.device.type == "cpu" else tensor


def setup(requested_device: str, threads: int = 0) -> Placement:
    """Join the process group when torchrun started us; pick this process's device and CPU threads
    (0: PyTorch's default)."""
    if threads:
        torch.set_num_threads(threads)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return Placement(rank, world_size, device)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def gather_objects(obj, placement: Placement) -> list:
    """Every rank's object, in rank order (on every rank)."""
    if not placement.distributed:
        return [obj]
    out = [None] * placement.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_flag(flag: bool, placement: Placement) -> bool:
    """Rank 0's decision, on every rank (stop early, out of time)."""
    if not placement.distributed:
        return flag
    box = [flag]
    dist.broadcast_object_list(box, src=0)
    return bool(box[0])


def broadcast_object(obj, placement: Placement):
    """Rank 0's object, on every rank (the validation record rank 0 alone computed)."""
    if not placement.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sum_over_ranks(values: list[float], placement: Placement) -> list[float]:
    """Each value summed over every rank (a batch's loss and token count across the processes)."""
    if not placement.distributed:
        return list(values)
    # nccl reduces only GPU tensors; float64 keeps token counts exact well past any epoch's size
    total = torch.tensor(values, dtype=torch.float64, device=placement.device)
    dist.all_reduce(total)
    return total.tolist()


def deal(count: int, placement: Placement) -> range:
    """The indices of an epoch's `count` batches that are this rank's: batch i goes to rank
    i % world_size, and the tail that does not divide is left out, so every rank takes as many
    steps (DistributedDataParallel waits for every rank at every step)."""
    share = count // placement.world_size
    return range(placement.rank, share * placement.world_size, placement.world_size)


def check_shares(count: int, batch_size: int, placement: Placement) -> None:
    """An epoch of `count` batches must give every rank at least one."""
    if placement.distributed and count < placement.world_size:
        raise RnnlabError(f"{count} training batch(es) of --batch-size {batch_size} cannot be shared among "
                          f"{placement.world_size} processes; use a smaller --batch-size or fewer processes")


def summed_over_ranks(values: dict[str, float], placement: Placement) -> dict[str, float]:
    """A step's running sums (nll, tokens, ...) summed over every rank, named NAME_all_ranks, for the
    step's `extra`: the loop adds them up in the progress every rank keeps and rank 0 checkpoints,
    so a resumed epoch goes on from the whole world's sums. Nothing when the run is one process."""
    if not placement.distributed:
        return {}
    return {f"{name}_all_ranks": total
            for name, total in zip(values, sum_over_ranks(list(values.values()), placement))}


def epoch_total(progress, name: str) -> float:
    """The epoch's running sum `name` (nll, tokens or an extra such as kl) over every rank, or this
    rank's own when the run is one process."""
    extra = progress.epoch_extra
    if f"{name}_all_ranks" in extra:
        return extra[f"{name}_all_ranks"]
    return {"nll": progress.epoch_nll, "tokens": progress.epoch_tokens}.get(name, extra.get(name, 0.0))

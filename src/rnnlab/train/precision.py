"""Which precision a run trains in: fp32, bf16 autocast, or fp16 autocast with a gradient scaler.

`auto` picks for the device: bf16 on a GPU that computes in it (compute capability 8.0 and later:
A100, H100, RTX 30xx on), fp16 on older GPUs (T4, V100), fp32 on a CPU. The run's config keeps the
choice made, so a resumed run trains as it began (or is refused, in one line, where it cannot).
"""

from __future__ import annotations

import dataclasses

import torch

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def gpu_has_bf16(device: torch.device) -> bool:
    """Whether this GPU computes in bfloat16 (Ampere and later); older ones only emulate it, slowly."""
    return torch.cuda.get_device_capability(device)[0] >= 8


def cpu_has_bf16() -> bool:
    """AVX-512 BF16 or AMX: oneDNN has no bf16 recurrent kernels for other CPUs (emulation is slower than fp32)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def choose_precision(requested: str, device_type: str, has_bf16: bool, device_name: str = "this GPU") -> str:
    """The resolution table: what `requested` trains in on a device of `device_type`; refusals in one line."""
    if requested == "auto":
        if device_type == "cuda":
            return "bf16" if has_bf16 else "fp16"
        return "fp32"
    if requested == "bf16" and not has_bf16:
        if device_type == "cuda":
            raise RnnlabError(f"--precision bf16: {device_name} has no bfloat16; use --precision fp16 or auto")
        raise RnnlabError("--precision bf16: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX), where "
                          "it would only be slower than fp32; train in fp32")
    if requested == "fp16" and device_type != "cuda":
        raise RnnlabError("--precision fp16 needs a CUDA GPU (on a CPU, fp16 products are emulated and slower "
                          "than fp32); train in fp32, or bf16 on a CPU with AVX-512 BF16 or AMX")
    if requested not in ("fp32", "bf16", "fp16"):
        raise RnnlabError(f"--precision {requested!r} is not one of: auto, fp32, bf16, fp16")
    return requested


def resolve_precision(requested: str, device: torch.device) -> str:
    """`choose_precision` with the device's own abilities."""
    if requested == "fp32":
        return "fp32"
    if device.type == "cuda":
        return choose_precision(requested, "cuda", gpu_has_bf16(device), torch.cuda.get_device_name(device))
    return choose_precision(requested, device.type, cpu_has_bf16())


def with_precision(config: RunConfig, device: torch.device) -> RunConfig:
    """The config with its precision resolved for `device`: what the
    run directory records and a resume reads back (--bf16 stays set beside it)."""
    train = config.train
    chosen = resolve_precision(train.requested_precision, device)
    return dataclasses.replace(config, train=dataclasses.replace(train, precision=chosen))


def autocast(precision: str, device: torch.device):
    """The autocast context of a training step: products in 16 bits under bf16 and fp16, nothing under fp32."""
    return torch.autocast(device.type, dtype=DTYPES.get(precision, torch.bfloat16), enabled=precision in DTYPES)


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """fp16's loss scaler (small gradients would underflow in fp16); a pass-through for the others."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")

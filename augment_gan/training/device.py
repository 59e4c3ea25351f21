"""Where and in what precision training runs: CUDA when really usable, bf16 only where it pays."""

from __future__ import annotations

import os

import torch

from augment_gan.errors import ConfigError


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when asked for or when usable (a tiny op really runs), else CPU.

    Under torchrun the probe runs on this process's own GPU (LOCAL_RANK), so N processes do
    not all open a context on GPU 0."""
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        try:
            local = int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count()
            torch.zeros(1, device=f"cuda:{local}").add_(1)
            return torch.device("cuda")
        except RuntimeError:
            pass
    return torch.device("cpu")


PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(requested: str, device: torch.device) -> str:
    """'auto' -> bf16 on a CUDA GPU that supports it, else fp32. bf16 on CPU is refused:
    autocast there is slower than fp32 for these nets."""
    if requested not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}.")
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if requested == "auto":
        return "bf16" if cuda_bf16 else "fp32"
    if requested == "bf16" and not cuda_bf16:
        raise ConfigError(f"bf16 mixed precision needs a CUDA GPU that supports it (device is {device}).")
    return requested

"""Device and dtype choice: `auto` picks cuda when present, and on cuda bf16 where supported, else fp16.

CPU stays fp32: bf16 matmuls on CPUs without AMX are slower than fp32 and change the scores.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

DType = Literal["auto", "float32", "float16", "bfloat16"]
DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def valid_device(device: str) -> bool:
    """Whether a device string is one we accept (checked at construction, without importing torch)."""
    return bool(DEVICE.match(device))


def pick_device(device: str = "auto") -> torch.device:
    """The torch device for a device parameter; asking for cuda where there is none is an error."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device '{device}' asked for but torch sees no CUDA device (use device: auto or cpu)")
    return torch.device(device)


def pick_dtype(dtype: DType, device: torch.device) -> torch.dtype:
    """The compute dtype: explicit, or auto = bf16/fp16 on cuda, fp32 elsewhere."""
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32

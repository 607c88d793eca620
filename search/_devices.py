"""The devices a search runs on, and how many workers it starts by default."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def default_workers(devices: tuple[str, ...]) -> int:
    """One worker per listed device; without --devices, one per GPU, or on a CPU-only machine one
    per core (up to 4): single-threaded processes train a small model faster than one process
    using every core, which spends its time synchronizing threads on small matrices."""
    if devices:
        return len(devices)
    gpus = gpu_count()
    if gpus:
        return gpus
    return max(1, min(os.cpu_count() or 1, 4))


def gpu_count() -> int:
    """CUDA devices torch sees; without an NVIDIA driver on the machine, 0 without importing torch
    (seconds of the launcher's start-up on a CPU machine, before any worker starts)."""
    if not (shutil.which("nvidia-smi") or Path("/dev/nvidiactl").exists()):
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0

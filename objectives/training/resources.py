"""Peak memory of a run: the process's resident set, and CUDA memory where there is a GPU."""

from __future__ import annotations

import resource
import sys

import torch


class MemoryMeter:
    """Started at the beginning of a run; ``peak()`` reads the high-water marks since then.

    The resident-set peak is the process's (the kernel keeps one per process), so in a worker that
    ran earlier trials it is an upper bound for this one; CUDA's peak is reset per run.
    """

    def __init__(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def peak(self) -> dict[str, float]:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        out = {"process_peak_rss_mb": round(rss * scale / 2**20, 1)}
        if torch.cuda.is_available():
            out["cuda_peak_allocated_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        return out

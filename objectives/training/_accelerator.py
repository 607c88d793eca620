"""A run's device: one accelerate ``Accelerator`` per run (process-wide state reset, device and
precision chosen, its memory released at its end: many runs share one process), and the run's
peak memory: the process's resident set, and CUDA memory where there is a GPU."""

from __future__ import annotations

import resource
import sys

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState

from objectives._hparams import RunSettings


def new_accelerator(settings: RunSettings) -> Accelerator:
    """An Accelerator for one run, with accelerate's process-wide state reset first."""
    # accelerate keeps process-wide singletons; a new trial must not inherit the last one's.
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    cpu = settings.device == "cpu" or not torch.cuda.is_available()
    if settings.device.startswith("cuda:") and not cpu:
        torch.cuda.set_device(int(settings.device.split(":", 1)[1]))
    precision = settings.precision
    if precision == "auto":
        precision = "no" if cpu else "fp16"
    return Accelerator(cpu=cpu, mixed_precision=precision)


def release_accelerator(accelerator: Accelerator) -> None:
    """Drop the run's model and optimizer; accelerate collects garbage and empties CUDA's cache."""
    accelerator.free_memory()


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

"""One accelerate ``Accelerator`` per run: process-wide state reset, device and precision chosen,
and the run's memory released at its end (many runs share one process)."""

from __future__ import annotations

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState

from objectives.hparams import RunSettings


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

"""What besides the hyperparameters decides a run's numbers: CPU threads (matrix products sum in
another order with another thread count), device, precision, evaluation cadence and library
versions. A trial records them; a rerun of its exported config applies them, and is then
bit-identical on CPU."""

from __future__ import annotations

import logging
import os
from typing import Any

import torch

from common._versions import package_versions
from objectives._hparams import RunSettings

log = logging.getLogger(__name__)
# RunSettings fields a rerun takes from the record unless given otherwise
CADENCE = ("eval_steps", "evals_per_epoch", "evals_per_run", "eval_batch_size")
VERSIONED = ("python", "torch", "transformers", "accelerate", "tokenizers", "numpy")


def runtime_record(settings: RunSettings) -> dict[str, Any]:
    """This process's settings for a run with ``settings``, as the trial records them."""
    cuda = settings.device != "cpu" and torch.cuda.is_available()
    precision = settings.precision
    if precision == "auto":
        precision = "fp16" if cuda else "no"
    versions = package_versions()
    return {
        "threads": torch.get_num_threads(),
        "device": "cuda" if cuda else "cpu",
        "precision": precision,
        **{name: getattr(settings, name) for name in CADENCE},
        "versions": {name: versions[name] for name in VERSIONED if name in versions},
        **(_gpu() if cuda else {}),
    }


def _gpu() -> dict[str, Any]:
    """Which GPU the run had: the launcher gives each worker its own (CUDA_VISIBLE_DEVICES)."""
    return {
        "gpu": {
            "visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "name": torch.cuda.get_device_name(torch.cuda.current_device()),
        }
    }


def apply_threads(record: dict[str, Any] | None, threads: int | None) -> None:
    """Use ``threads`` (a flag), else the recorded thread count, for this process's runs."""
    wanted = threads or (record or {}).get("threads")
    if wanted:
        torch.set_num_threads(int(wanted))


def version_drift(record: dict[str, Any] | None) -> list[str]:
    """The recorded library versions this process does not have (the rerun may differ)."""
    recorded = (record or {}).get("versions") or {}
    now = package_versions()
    return [
        f"{name} {version} (now {now.get(name)})"
        for name, version in recorded.items()
        if now.get(name) != version
    ]

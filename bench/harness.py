"""What every benchmark records beside its numbers: the machine, its load, and where the JSON goes.

Benchmarks are run as scripts (``python bench/NAME.py``), so they import this as ``harness``;
importing it puts the repository root on ``sys.path``, for the project's packages (the fake
trial among them: :mod:`search.testing`).
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common._versions import code_version, package_versions  # noqa: E402
from objectives.data._inputs import TrialData, load_trial_data  # noqa: E402
from objectives.data._sample_data import ensure_sample_data  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return [round(x, 2) for x in os.getloadavg()]


def machine_info(torch_threads: int | None = None) -> dict[str, Any]:
    """CPU count, platform, package and code versions (and torch threads, where they matter)."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "versions": package_versions(),
        "code_version": code_version(),
    }
    if torch_threads is not None:
        info["torch_threads"] = torch_threads
    return info


def machine_record(load_start: list[float], torch_threads: int | None = None) -> dict[str, Any]:
    """:func:`machine_info` with the load average at the run's start and now, at its end."""
    return {
        **machine_info(torch_threads),
        "load_average_start": load_start,
        "load_average_end": load_average(),
    }


def print_closing(machine: dict[str, Any], saved: Path) -> None:
    """A run's last lines: the load average at its start and end (from :func:`machine_record`),
    and where its JSON went."""
    print(f"load average {machine['load_average_start']} -> {machine['load_average_end']}")
    print(f"saved {saved}")


def save_result(path: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as JSON to ``path`` atomically (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as f:
        f.write(json.dumps(record, indent=2) + "\n")
    os.replace(f.name, path)
    return path


def sample_data(cache_dir: Path | None = None) -> TrialData:
    """The built-in sample train and dev sets, generated into ``cache_dir`` on first use."""
    root = ensure_sample_data(cache_dir)
    return load_trial_data(root / "train.json", root / "dev.json")


def epochs_for_steps(examples: int, batch: int, steps: int) -> float:
    """``num_train_epochs`` that trains exactly ``steps`` optimizer steps over ``examples``.

    A hair under ``steps / per_epoch``, so that ``ceil(per_epoch * epochs)`` is ``steps``.
    """
    return (steps - 0.5) / math.ceil(examples / batch)

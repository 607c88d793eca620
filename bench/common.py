"""What every benchmark records beside its numbers: the machine, its load, and where the JSON goes.

Benchmarks are run as scripts (``python bench/NAME.py``), so they import this as ``common``.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from objectives.versions import code_version, package_versions

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


def save_result(path: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as JSON to ``path`` atomically (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as f:
        f.write(json.dumps(record, indent=2) + "\n")
    os.replace(f.name, path)
    return path

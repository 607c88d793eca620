"""bench/gpu_check.py runs on any machine: what needs CUDA is measured where there is a GPU and
named as skipped where there is none; the forced out-of-memory halving runs everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_measures_what_it_can_and_names_what_it_skipped(tmp_path):
    out = tmp_path / "gpu_check.json"
    command = [sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--steps", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [*command, "--repeats", "1", "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["oom"]["ok"] and record["oom"]["micro_batch"] == [32, 16]
    assert record["precision"]["ratios"]["ours/hf fp32"] > 0
    if torch.cuda.is_available():
        assert "ours fp16/fp32" in record["precision"]["ratios"]
        assert record["search"]["ok"], record["search"]
    else:
        assert "precision: SKIPPED fp16: no CUDA device" in done.stdout
        assert "search: SKIPPED: no CUDA device" in done.stdout
        assert set(record["precision"]["examples_per_s"]) == {"ours_fp32", "hf_fp32"}
    assert "LOAD REPORT" not in done.stdout + done.stderr

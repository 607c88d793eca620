"""What a trial records of the process that ran it: on a GPU, which one (bench/gpu_check.py checks
that each worker of a --devices search had its own)."""

import torch

from objectives._hparams import RunSettings
from objectives.training._runtime import runtime_record


def test_a_cpu_run_records_no_gpu():
    record = runtime_record(RunSettings(device="cpu"))
    assert record["device"] == "cpu" and "gpu" not in record


def test_a_gpu_run_records_the_device_it_was_given(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: "NVIDIA H200")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    record = runtime_record(RunSettings(device="cuda"))
    assert record["device"] == "cuda" and record["precision"] == "fp16"
    assert record["gpu"] == {"visible_devices": "2", "name": "NVIDIA H200"}

"""What a run leaves on disk: metrics, predictions with probabilities, the run record."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from common._files import write_text_atomic
from common._versions import code_version, package_versions
from objectives._hparams import HParams, RunSettings
from objectives._metrics import softmax
from objectives.data._inputs import TrialData
from objectives.data._predictions import write_predictions
from objectives.training._loop import RunResult


def write_run(
    out_dir: Path, result: RunResult, hp: HParams, settings: RunSettings, data: TrialData
) -> dict[str, str]:
    """Write ``metrics.json``, ``dev_predictions.csv``, ``test_predictions.csv`` (with a test set)
    and ``run.json``; return what was written, by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    write_json(out_dir / "metrics.json", _metrics_record(result))
    written["metrics"] = str(out_dir / "metrics.json")
    if result.dev_logits is not None:
        path = out_dir / "dev_predictions.csv"
        ids = [ex.id for ex in data.dev.examples]
        write_predictions(path, ids, softmax(result.dev_logits), data.labels)
        written["dev_predictions"] = str(path)
    if result.test_logits is not None and data.test is not None:
        path = out_dir / "test_predictions.csv"
        ids = [ex.id for ex in data.test.examples]
        write_predictions(path, ids, softmax(result.test_logits), data.labels)
        written["test_predictions"] = str(path)
    if result.checkpoint:
        written["checkpoint"] = result.checkpoint
    write_json(out_dir / "run.json", run_record(result, hp, settings, data))
    written["run"] = str(out_dir / "run.json")
    return written


def _metrics_record(result: RunResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "reason": result.reason,
        "best_step": result.best_step,
        **result.metrics,
    }


def run_record(
    result: RunResult, hp: HParams, settings: RunSettings, data: TrialData
) -> dict[str, Any]:
    """Everything needed to know later what ran and why it ended as it did."""
    settings_dict = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()}
    return {
        "hparams": hp.to_dict(),
        "settings": settings_dict,
        "data": {
            "train": {"path": data.train.path, "fingerprint": data.train.fingerprint},
            "dev": {"path": data.dev.path, "fingerprint": data.dev.fingerprint},
            "test": (
                {"path": data.test.path, "fingerprint": data.test.fingerprint}
                if data.test is not None
                else None
            ),
            "labels": data.labels.to_json(),
            "repaired_offsets": data.train.repaired + data.dev.repaired,
            "truncated_entities": result.truncated_entities,
            "examples": result.examples,
        },
        "result": {
            "status": result.status,
            "reason": result.reason,
            "metrics": result.metrics,
            "best_step": result.best_step,
            "steps": result.steps,
            "total_steps": result.total_steps,
            "micro_batch_size": result.micro_batch_size,
            "checkpoint": result.checkpoint,
            "evaluations": result.evaluations,
        },
        "timings_s": result.timings,
        "memory": result.memory,
        "code_version": code_version(),
        "packages": package_versions(),
    }


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (see :func:`common._files.write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")

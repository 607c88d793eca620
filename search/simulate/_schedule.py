"""Where a simulated run evaluates, and what each evaluation shows and costs.

The steps are the training loop's (``objectives.training``): ``ceil(train / batch)`` steps an
epoch, ``ceil(epochs * steps_per_epoch)`` in all, evaluations where
``objectives.training._cadence.evaluation_steps`` puts them (so many an epoch, or so many a run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from objectives.training._cadence import evaluation_steps
from search.simulate._surrogate import Surrogate


@dataclass(frozen=True)
class Cadence:
    """When runs evaluate: ``evals_per_epoch`` (the service's rule) or ``evals_per_run``."""

    evals_per_epoch: int = 4
    evals_per_run: int | None = None

    def steps(self, total: int, steps_per_epoch: int) -> list[int]:
        return evaluation_steps(
            total, steps_per_epoch, None, self.evals_per_epoch, self.evals_per_run
        )

    def label(self) -> str:
        if self.evals_per_run:
            return f"{self.evals_per_run} evaluations a run"
        return f"{self.evals_per_epoch} evaluations an epoch"


def train_rows(surrogate: Surrogate) -> int:
    """Train examples an epoch, from the table's runs (examples at the end over epochs)."""
    sizes = [
        curve.evals[-1, 2] / float(schedule_params(curve.params, surrogate)[0])
        for curve in surrogate.table.full
    ]
    return round(float(np.median(sizes)))


def schedule_params(params: dict[str, Any], surrogate: Surrogate) -> tuple[float, int]:
    fixed = surrogate.table.metadata.get("fixed") or {}
    epochs = params.get("num_train_epochs", fixed.get("num_train_epochs", 1))
    batch = params.get("per_device_train_batch_size", fixed.get("per_device_train_batch_size", 32))
    return float(epochs), int(batch)


def simulated_run(
    surrogate: Surrogate,
    params: dict[str, Any],
    cadence: Cadence,
    rows: int,
    residual: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """(n, 6) step, cumulative seconds, cumulative examples, F1, AUPRC, and the cumulative
    seconds of evaluation (inside ``seconds``) of one full run.

    A configuration the table ran with the table's own cadence is its recorded curve; any other is
    the surrogate's, plus ``residual`` (fractions, (m, 2) F1/AUPRC offsets) interpolated.
    """
    epochs, batch = schedule_params(params, surrogate)
    per_epoch = math.ceil(rows / batch)
    total = max(1, math.ceil(per_epoch * epochs))
    steps = np.array(cadence.steps(total, per_epoch), dtype=float)
    recorded = surrogate.lookup(params)
    if recorded is not None and np.array_equal(recorded.evals[:, 0], steps):
        evaluated = recorded.eval_seconds * np.arange(1, len(steps) + 1)
        return np.column_stack([recorded.evals, evaluated])
    fractions = steps / total
    metrics = surrogate.predict(params, fractions)
    if residual is not None:
        at, offsets = residual
        for k in range(2):
            metrics[:, k] += np.interp(fractions, at, offsets[:, k])
    metrics = np.clip(metrics, 0.0, 100.0)
    train_s, eval_s = surrogate.train_seconds(params)
    evaluated = eval_s * np.arange(1, len(steps) + 1)
    seconds = train_s * fractions + evaluated
    examples = (steps // per_epoch) * rows + np.minimum((steps % per_epoch) * batch, rows)
    return np.column_stack([steps, seconds, examples, metrics, evaluated])

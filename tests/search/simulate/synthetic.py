"""Synthetic learning-curve tables whose answers are known."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from search.simulate._schedule import Cadence
from search.simulate._table import Curve, Table

ROWS, BATCH = 320, 32  # 10 steps an epoch; 4 evaluations an epoch: one every 2 steps


def agreeing(x: float, fraction: np.ndarray) -> np.ndarray:
    """Early ranks are final ranks: every curve is its final value scaled by the same rise."""
    return 80 * x * (0.3 + 0.7 * fraction)


def reversed_(x: float, fraction: np.ndarray) -> np.ndarray:
    """Early ranks are reversed at the end: high x starts slowest and ends best."""
    return 80 * (fraction**2 * x + 0.25 * fraction * (1 - x))


def table(
    shape: Callable[[float, np.ndarray], np.ndarray],
    trials: int = 40,
    epochs: int = 3,
    searched_epochs: bool = False,
) -> Table:
    """``trials`` runs with x evenly spread, of ``epochs`` epochs (or 1, 2, 3 in turn when
    ``searched_epochs``: the curve is a function of the schedule's fraction, so every length ends
    equally well); AUPRC is 0.75 of F1."""
    per_epoch = ROWS // BATCH
    curves = []
    for i, x in enumerate(np.linspace(0.02, 0.98, trials)):
        n_epochs = 1 + i % 3 if searched_epochs else epochs
        total = per_epoch * n_epochs
        steps = np.array(Cadence().steps(total, per_epoch), dtype=float)
        f1 = shape(float(x), steps / total)
        seconds = 10.0 * steps / per_epoch + 0.1 * np.arange(1, len(steps) + 1)
        examples = steps * BATCH
        evals = np.column_stack([steps, seconds, examples, f1, 0.75 * f1])
        params = {"x": float(x), "kind": "ab"[i % 2]}
        if searched_epochs:
            params["num_train_epochs"] = n_epochs
        curves.append(Curve(i, params, total, 0.1, evals))
    distributions = {
        "x": FloatDistribution(0.0, 1.0),
        "kind": CategoricalDistribution(["a", "b"]),
    }
    if searched_epochs:
        distributions["num_train_epochs"] = IntDistribution(1, 3)
    fixed = {"num_train_epochs": epochs, "per_device_train_batch_size": BATCH}
    return Table("synthetic", distributions, tuple(curves), {"model": "tiny", "fixed": fixed})

"""Run-to-run noise for replays: offset curves a simulated run adds to the surrogate's mean.

Modes (``--noise``):

- ``none``: the surrogate's mean alone (every run of a configuration ends the same);
- ``residual``: a held-out residual curve (actual minus predicted, 5 folds by configuration)
  of a table run, drawn among the runs whose predicted final F1 is nearest the simulated run's,
  so a good configuration gets the errors good configurations had (a run badly predicted at F1
  20 does not lift a run predicted at 65 past 100); it holds the model's own error as well as
  seed noise;
- ``seeds``: a configuration's run minus the mean of its runs with other training seeds (scaled
  by sqrt(n / (n - 1)) so the spread is that of one run), from the table's repeated-seed runs,
  drawn by level the same way: seed noise alone, measured.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MODES = ("none", "residual", "seeds")
NEAREST = 12  # residual curves a draw chooses among, nearest by level


def mode_of(noise: bool | str) -> str:
    if noise is True:
        return "residual"
    if not noise:
        return "none"
    if noise not in MODES:
        from common._cli import UserError

        raise UserError(f"--noise: {noise!r} is not one of {', '.join(MODES)}")
    return str(noise)


Pool = list[tuple[np.ndarray, np.ndarray, float]]  # fractions, (m, 2) offsets, level (final F1)


def residual_pool(x: np.ndarray, residual: np.ndarray, oof: np.ndarray, groups: np.ndarray) -> Pool:
    """Each table run's held-out residual curve, with its predicted final F1 as its level."""
    pool = []
    for g in sorted(set(groups.tolist())):
        rows = groups == g
        pool.append((x[rows, -1], residual[rows], float(oof[rows][-1, 0])))
    return pool


def seed_pool(curves: list[Any], key) -> Pool:
    """Deviations of repeated-seed runs from their configuration's mean curve."""
    by_config: dict[tuple, list[Any]] = {}
    for c in curves:
        by_config.setdefault(key(c.params), []).append(c)
    pool = []
    for runs in by_config.values():
        steps = runs[0].evals[:, 0]
        same = [r for r in runs if np.array_equal(r.evals[:, 0], steps)]
        if len(same) < 2:
            continue
        values = np.stack([r.evals[:, 3:5] for r in same])
        mean = values.mean(axis=0)
        scale = math.sqrt(len(same) / (len(same) - 1))
        for r, v in zip(same, values, strict=True):
            pool.append((r.fractions, (v - mean) * scale, float(mean[-1, 0])))
    return pool


def draw(pool: Pool, level: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One offset curve among the ``NEAREST`` whose level is nearest ``level``."""
    levels = np.array([p[2] for p in pool])
    nearest = np.argsort(np.abs(levels - level), kind="stable")[:NEAREST]
    fractions, offsets, _ = pool[int(nearest[int(rng.integers(len(nearest)))])]
    return fractions, offsets

"""Ensembles of trials from their stored class probabilities: ranking, soft voting and greedy
ensemble selection (Caruana et al. 2004, "Ensemble selection from libraries of models").

Pure functions over plain values and arrays; reading the study and the artifacts is
``search.ensemble``'s job. Scores are KLUE's (``objectives._metrics``), x100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from objectives._metrics import auprc, micro_f1
from objectives.data._labels import LabelSet
from search.pruning._moasha import nondominated_ranks

METRICS = ("micro_f1", "auprc")
METRIC_NAMES = {"micro_f1": "micro-F1", "auprc": "AUPRC"}


def score(probs: np.ndarray, gold: np.ndarray, label_set: LabelSet, metric: str) -> float:
    """One KLUE metric of class probabilities against gold label ids."""
    if metric == "micro_f1":
        return micro_f1(np.asarray(probs).argmax(axis=-1), gold, label_set)
    if metric == "auprc":
        return auprc(probs, gold, len(label_set))
    raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")


def scores(probs: np.ndarray, gold: np.ndarray, label_set: LabelSet) -> dict[str, float]:
    """Both KLUE metrics: ``{"micro_f1": ..., "auprc": ...}``."""
    return {m: score(probs, gold, label_set, m) for m in METRICS}


def pareto_order(values: Sequence[Sequence[float]], tie_break: Sequence[float]) -> list[int]:
    """Indices best first: by non-dominated rank of ``values`` (all maximized; the sort MO-ASHA
    uses), then by ``tie_break`` (higher first), then by position."""
    ranks = nondominated_ranks(values, [True] * len(values[0])) if values else []
    return sorted(range(len(values)), key=lambda i: (ranks[i], -tie_break[i], i))


def order_by(key: Sequence[float]) -> list[int]:
    """Indices best first by one value (higher first), then by position."""
    return sorted(range(len(key)), key=lambda i: (-key[i], i))


@dataclass(frozen=True)
class Selection:
    """A greedy selection: ``chosen`` (pool indices in the order they were added), the chosen
    ensemble's ``metric`` after each addition (``path``), and why each other member stayed out."""

    chosen: tuple[int, ...]
    path: tuple[float, ...]
    left_out: dict[int, str]


def greedy_select(
    pool: Sequence[np.ndarray], gold: np.ndarray, label_set: LabelSet, metric: str = "micro_f1"
) -> Selection:
    """Caruana's greedy ensemble selection, without replacement.

    Start from the member with the best ``metric``; then add, one at a time, the member whose
    addition to the soft vote raises ``metric`` most; stop when no addition raises it. Ties go
    to the earlier member of ``pool`` (the better ranked one).
    """
    if not pool:
        raise ValueError("greedy selection needs at least one member")
    name = METRIC_NAMES[metric]
    singles = [score(p, gold, label_set, metric) for p in pool]
    first = max(range(len(pool)), key=lambda i: (singles[i], -i))
    chosen = [first]
    total = np.asarray(pool[first], dtype=np.float64).copy()
    current = singles[first]
    path = [current]
    remaining = [i for i in range(len(pool)) if i != first]
    tried: dict[int, float] = {}
    while remaining:
        tried = {
            i: score((total + pool[i]) / (len(chosen) + 1), gold, label_set, metric)
            for i in remaining
        }
        best = max(remaining, key=lambda i: (tried[i], -i))
        if tried[best] <= current:
            break
        chosen.append(best)
        total += pool[best]
        current = tried[best]
        path.append(current)
        remaining.remove(best)
    left_out = {
        i: (
            f"did not improve dev {name} when added ({tried[i]:.2f} with it, {current:.2f} without)"
        )
        for i in remaining
    }
    return Selection(chosen=tuple(chosen), path=tuple(path), left_out=left_out)

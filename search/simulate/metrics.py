"""What replays are judged by: best F1 and (F1, AUPRC) hypervolume against compute, the compute to
reach a share of the table's best F1, and the pruning regret; medians and quartiles over seeds.

Only COMPLETE trials count as found (what the service's report shows), each at the compute spent
by all workers when it finished. Hypervolume is that of the COMPLETE trials' (F1, AUPRC) front
against the origin (both in [0, 100]), by Optuna's own hypervolume function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna._hypervolume import compute_hypervolume

from search.pruning.moasha import nondominated_ranks
from search.simulate.replay import Replay

AXES = {"seconds": "at_seconds", "examples": "at_examples"}
BUDGET_SHARES = (0.25, 0.5, 1.0)


def progress(replay: Replay, axis: str = "seconds") -> np.ndarray:
    """(k, 3): compute, best F1 and hypervolume after each COMPLETE trial, in finishing order."""
    rows, points = [], []
    for trial in replay.trials:
        if trial["state"] != "complete":
            continue
        points.append((trial["f1"], trial["auprc"]))
        best = max(p[0] for p in points)
        rows.append((trial[AXES[axis]], best, hypervolume(points)))
    return np.array(rows).reshape(-1, 3)


def hypervolume(points: Sequence[tuple[float, float]]) -> float:
    """Area dominated by ``points`` (both maximized) above the origin."""
    if not points:
        return 0.0
    losses = -np.maximum(np.asarray(points, dtype=float), 0.0)
    return float(compute_hypervolume(losses, np.zeros(2)))


def at(curve: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Best F1 and hypervolume (columns) reached with at most each of ``budgets``."""
    out = np.zeros((len(budgets), 2))
    for i, budget in enumerate(budgets):
        reached = curve[curve[:, 0] <= budget]
        if len(reached):
            out[i] = reached[-1, 1:]
    return out


def compute_to(curve: np.ndarray, target: float) -> float:
    """Compute spent when best F1 first reached ``target`` (inf when it never did)."""
    hit = np.flatnonzero(curve[:, 1] >= target)
    return float(curve[hit[0], 0]) if hit.size else math.inf


def pruning_regret(replay: Replay) -> dict[str, float]:
    """How often pruning stopped a configuration whose full run is on the final front.

    The front is that of every started configuration's full run (the table or surrogate knows
    it); ``share`` is the fraction of that front the pruner stopped, ``f1_lost`` how far the best
    F1 found falls below the best full run among the configurations tried.
    """
    if not replay.trials:
        return {"share": 0.0, "f1_lost": 0.0}
    full = [(t["full_f1"], t["full_auprc"]) for t in replay.trials]
    front = [
        t
        for t, rank in zip(replay.trials, nondominated_ranks(full, [True, True]), strict=True)
        if rank == 0
    ]
    stopped = sum(t["state"] == "pruned" for t in front)
    found = [t["f1"] for t in replay.trials if t["state"] == "complete"]
    lost = max(t["full_f1"] for t in replay.trials) - (max(found) if found else 0.0)
    return {"share": stopped / len(front), "f1_lost": max(lost, 0.0)}


def quartiles(values: Sequence[float]) -> dict[str, float | None]:
    """Median and interquartile range; ``None`` where a quartile is infinite (never reached)."""
    q = np.percentile(np.asarray(values, dtype=float), [25, 50, 75], method="lower")
    return {
        k: (None if math.isinf(v) else round(float(v), 4))
        for k, v in zip(("q1", "median", "q3"), q, strict=True)
    }


def summarize(
    replays: dict[str, list[Replay]], reference: float, budgets: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The JSON: per strategy, compute_to_95/99 (simulated seconds and examples), best F1 and
    hypervolume at fixed budgets, pruning regret, trials and compute spent."""
    out: dict[str, Any] = {}
    for name, runs in replays.items():
        entry: dict[str, Any] = {}
        for axis in AXES:
            curves = [progress(r, axis) for r in runs]
            suffix = "" if axis == "seconds" else "_examples"
            for share in (95, 99):
                target = reference * share / 100
                spent = [compute_to(c, target) for c in curves]
                entry[f"compute_to_{share}{suffix}"] = quartiles(spent)
                entry[f"reached_{share}"] = round(float(np.mean(np.isfinite(spent))), 3)
            values = np.array([at(c, budgets[axis]) for c in curves])  # seeds x budgets x 2
            entry[f"at_budget{suffix}"] = {
                f"{b:.0f}": {
                    "best_f1": quartiles(values[:, i, 0]),
                    "hypervolume": quartiles(values[:, i, 1]),
                }
                for i, b in enumerate(budgets[axis])
            }
        regrets = [pruning_regret(r) for r in runs]
        entry["pruning_regret"] = quartiles([r["share"] for r in regrets])
        entry["pruning_regret_f1_lost"] = quartiles([r["f1_lost"] for r in regrets])
        entry["trials"] = quartiles([len(r.trials) for r in runs])
        entry["pruned"] = quartiles([sum(t["state"] == "pruned" for t in r.trials) for r in runs])
        entry["compute_spent"] = quartiles([_spent(r, "at_seconds") for r in runs])
        entry["compute_spent_examples"] = quartiles([_spent(r, "at_examples") for r in runs])
        out[name] = entry
    for entry in out.values():
        for base in ("random", "trainer"):
            if base in out:
                entry[f"compute_to_99_vs_{base}"] = _ratio(
                    entry["compute_to_99"]["median"], out[base]["compute_to_99"]["median"]
                )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b of two medians; None where either was never reached."""
    return None if a is None or b is None or b == 0 else round(a / b, 3)


def common_budgets(replays: dict[str, list[Replay]], axis: str) -> np.ndarray:
    """Fixed budgets every strategy reached: shares of the least compute any one spent in all."""
    least = min(np.median([_spent(r, AXES[axis]) for r in runs]) for runs in replays.values())
    return np.array([least * share for share in BUDGET_SHARES])


def _spent(replay: Replay, key: str) -> float:
    return max((t[key] for t in replay.trials), default=0.0)

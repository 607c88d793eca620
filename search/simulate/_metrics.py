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

from search.pruning._moasha import nondominated_ranks
from search.simulate._replay import Replay
from storage._optuna import HYPERVOLUME as compute_hypervolume

AXES = {"seconds": "at_seconds", "examples": "at_examples"}
# the seconds apart: when a target was reached, how much of the compute was training, evaluation
APART = {"train_seconds": "at_train_seconds", "eval_seconds": "at_eval_seconds"}
BUDGET_SHARES = (0.25, 0.5, 1.0)
TOP_K = 5  # the configurations pruning_regret's top_share looks at


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


def pruning_regret(replay: Replay, top: int = TOP_K) -> dict[str, float]:
    """How often pruning stopped a configuration whose full run is on the final front.

    The final front is that of the (F1, AUPRC) full runs of every configuration the replay tried
    (the table or surrogate knows each one's full run, stopped or not); ``share`` is the fraction
    of that front's configurations the pruner stopped. A surrogate that is piecewise constant (a
    forest) gives nearby configurations the very same full run, so one front point can hold many
    configurations, some stopped and one completed: ``point_share`` is the fraction of the
    front's distinct points that no completed configuration reached. With a front of 1-3 points
    these move in steps of a third or more, so two steadier measures go with them:
    ``top_share``, the fraction of the ``top`` configurations tried with the best full-run F1
    that were stopped, and ``f1_lost``, how far the best F1 among the completed runs falls below
    the best full-run F1 among the configurations tried.
    """
    if not replay.trials:
        return {"share": 0.0, "point_share": 0.0, "top_share": 0.0, "f1_lost": 0.0, "front": 0}
    trials = replay.trials
    full = [(t["full_f1"], t["full_auprc"]) for t in trials]
    ranks = nondominated_ranks(full, [True, True])
    front = [t for t, rank in zip(trials, ranks, strict=True) if rank == 0]
    points: dict[tuple[float, float], bool] = {}  # front point -> some configuration completed
    for t in front:
        key = (t["full_f1"], t["full_auprc"])
        points[key] = points.get(key, False) or t["state"] == "complete"
    best = sorted(trials, key=lambda t: t["full_f1"], reverse=True)[:top]
    found = [t["f1"] for t in trials if t["state"] == "complete"]
    lost = max(t["full_f1"] for t in trials) - (max(found) if found else 0.0)
    return {
        "share": _stopped(front) / len(front),
        "point_share": sum(not done for done in points.values()) / len(points),
        "top_share": _stopped(best) / len(best),
        "f1_lost": max(lost, 0.0),
        "front": len(front),
    }


def _stopped(trials: list[dict[str, Any]]) -> int:
    return sum(t["state"] == "pruned" for t in trials)


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
    hypervolume at fixed budgets, pruning regret, trials and compute spent; then each strategy's
    compute to 95% and 99% against random's and trainer's."""
    out = {name: _entry(runs, reference, budgets) for name, runs in replays.items()}
    for entry in out.values():
        for share in (95, 99):
            for base in ("random", "trainer"):
                if base in out:
                    entry[f"compute_to_{share}_vs_{base}"] = ratio(
                        entry[f"compute_to_{share}"], out[base][f"compute_to_{share}"]
                    )
    return out


def _entry(runs: list[Replay], reference: float, budgets: dict[str, np.ndarray]) -> dict:
    entry: dict[str, Any] = {}
    for axis in AXES:
        curves = [progress(r, axis) for r in runs]
        totals = [_spent(r, AXES[axis]) for r in runs]
        suffix = "" if axis == "seconds" else "_examples"
        for share in (95, 99):
            spent = [compute_to(c, reference * share / 100) for c in curves]
            entry[f"compute_to_{share}{suffix}"] = {
                **quartiles(spent),
                "median_at_least": _median_at_least(spent, totals),
            }
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
    for key, name in (
        ("share", "pruning_regret"),
        ("point_share", "pruning_regret_points"),
        ("top_share", "pruning_regret_top5"),
    ):
        shares = [r[key] for r in regrets]
        entry[name] = {**quartiles(shares), "mean": round(float(np.mean(shares)), 4)}
    # every seed's front members together: stopped ones over all of them
    stopped = sum(r["share"] * r["front"] for r in regrets)
    entry["pruning_regret"]["pooled"] = round(stopped / max(sum(r["front"] for r in regrets), 1), 4)
    entry["pruning_regret_f1_lost"] = quartiles([r["f1_lost"] for r in regrets])
    entry["final_front_size"] = quartiles([r["front"] for r in regrets])
    entry["trials"] = quartiles([len(r.trials) for r in runs])
    entry["pruned"] = quartiles([_stopped(r.trials) for r in runs])
    entry["compute_spent"] = quartiles([_spent(r, "at_seconds") for r in runs])
    entry["compute_spent_examples"] = quartiles([_spent(r, "at_examples") for r in runs])
    _apart(entry, runs, reference)
    return entry


def _apart(entry: dict, runs: list[Replay], reference: float) -> None:
    """Train and evaluation seconds apart: spent in all, and spent when each target was hit."""
    for axis, key in APART.items():
        entry[f"compute_spent_{axis}"] = quartiles([_spent(r, key) for r in runs])
        for share in (95, 99):
            hit = [_at_target(r, reference * share / 100, key) for r in runs]
            entry[f"compute_to_{share}_{axis}"] = quartiles(hit)


def _at_target(replay: Replay, target: float, key: str) -> float:
    """``key`` (cumulative) at the COMPLETE trial that first reached ``target`` (inf if none)."""
    for trial in replay.trials:
        if trial["state"] == "complete" and trial["f1"] >= target:
            return float(trial.get(key, math.nan))
    return math.inf


def _median_at_least(spent: list[float], totals: list[float]) -> float:
    """A lower bound of the median compute to a target: a seed that never reached it would
    have needed more than all it spent."""
    bounded = [s if math.isfinite(s) else t for s, t in zip(spent, totals, strict=True)]
    return round(float(np.percentile(bounded, 50, method="lower")), 4)


def ratio(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Median compute of ``a`` over that of ``b``: ``exact`` where both medians were reached;
    where one was not (fewer than half its seeds reached the target), ``at most`` or ``at least``
    from that median's lower bound; ``unknown`` where neither was."""
    if a["median"] is not None and b["median"] is not None:
        kind, value = "exact", _divide(a["median"], b["median"])
    elif a["median"] is not None:
        kind, value = "at most", _divide(a["median"], b["median_at_least"])
    elif b["median"] is not None:
        kind, value = "at least", _divide(a["median_at_least"], b["median"])
    else:
        kind, value = "unknown", None
    return {"kind": kind, "ratio": value}


def _divide(a: float, b: float) -> float | None:
    return None if b == 0 else round(a / b, 3)


def common_budgets(replays: dict[str, list[Replay]], axis: str) -> np.ndarray:
    """Fixed budgets every strategy reached: shares of the least compute any one spent in all."""
    least = min(np.median([_spent(r, AXES[axis]) for r in runs]) for runs in replays.values())
    return np.array([least * share for share in BUDGET_SHARES])


def _spent(replay: Replay, key: str) -> float:
    return max((t.get(key, 0.0) for t in replay.trials), default=0.0)

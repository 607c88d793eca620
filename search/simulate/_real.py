"""Does the simulator predict real searches? Each real search (``bench/real_searches.py``'s JSON)
set against the 10-90% band of replays of its strategy with the same trials and workers, at its
own compute, in train examples and in seconds; what ``python -m search.simulate.fidelity``
prints and writes.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from common._cli import UserError
from search.simulate._metrics import at, progress
from search.simulate._replay import Budget, Replay, run_all
from search.simulate._schedule import train_rows
from search.simulate._strategies import STRATEGIES, Strategy, parse_strategies
from search.simulate._surrogate import fit
from search.simulate._table import Curve, Table, load_table

BAND = (10, 90)


AXES = {"examples": "train_examples", "seconds": "seconds"}


def read_real(path: Path) -> list[dict[str, Any]]:
    """The real searches, each with ``compute`` in examples and seconds (train + eval)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--real {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"--real {path}: not JSON ({exc.msg})") from None
    out = []
    for i, s in enumerate(data.get("searches") or []):
        try:
            compute = s["compute"]
            trials = s["trials"]
            out.append(
                {
                    "strategy": str(s["strategy"]),
                    "seed": s["seed"],
                    "trials": len(trials) if isinstance(trials, list) else int(trials),
                    "workers": int(s["workers"]),
                    "best_f1": float(s["best_f1"]),
                    "hypervolume": float(s["hypervolume"]),
                    "train_examples": float(compute["train_examples"]),
                    "seconds": float(compute["train_s"]) + float(compute["eval_s"]),
                    "train_s": float(compute["train_s"]),
                    "eval_s": float(compute["eval_s"]),
                    "trials_list": trials if isinstance(trials, list) else [],
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"--real {path}: search {i} lacks or mangles a field ({exc})") from None
    if not out:
        raise UserError(f"--real {path}: no searches")
    return out


def real_curves(search: dict[str, Any], rows: int, fixed: dict | None = None) -> list[Curve]:
    """A real search's trials as table curves: COMPLETE ones full runs, PRUNED ones partial (their
    schedule's length from the loop's rule: ceil(train rows / batch) steps an epoch)."""
    out = []
    for t in search.get("trials_list") or []:
        if t.get("state") not in ("complete", "pruned") or not t.get("evals"):
            continue
        steps = sorted(int(k) for k in t["evals"])
        if any(str(k) not in (t.get("eval_costs") or {}) for k in steps):
            continue
        known = {**(fixed or {}), **t["params"]}  # the table's fixed schedule where not searched
        batch = int(known.get("per_device_train_batch_size", 32))
        epochs = float(known.get("num_train_epochs", 1))
        total = steps[-1] if t["state"] == "complete" else math.ceil(rows / batch) * epochs
        evals = [[k, *t["eval_costs"][str(k)], *t["evals"][str(k)][:2]] for k in steps]
        seconds = float((t.get("timings_s") or {}).get("eval", 0.0)) / len(steps)
        number = 100000 * (1 + len(out))
        out.append(Curve(number, t["params"], int(total), seconds, np.array(evals, dtype=float),
                         partial=t["state"] == "pruned"))  # fmt: skip
    return out


def source_of(search: dict[str, Any]) -> str:
    """How a table names the runs of a real search (bench/record_table.py add-real)."""
    return f"real:{search['strategy']}:{search['seed']}"


def without(table: Table, search: dict[str, Any]) -> Table:
    """``table`` less the runs it holds of ``search`` (a search is never checked on its own)."""
    own = source_of(search)
    return replace(table, curves=tuple(c for c in table.curves if c.source != own))


def with_others(table: Table, real: list[dict], left_out: dict, rows: int) -> Table:
    """``table`` plus the runs of every real search but ``left_out`` (no search sees its own,
    nor twice another's: runs the table holds of a search in ``real`` come from ``real``)."""
    fixed = table.metadata.get("fixed")
    listed = {source_of(r) for r in real}
    kept = tuple(c for c in table.curves if c.source not in listed)
    extra = [c for r in real if r is not left_out for c in real_curves(r, rows, fixed)]
    return replace(table, curves=kept + tuple(extra), name=f"{table.name}+real")


def band(replays: list[Replay], axis: str, compute: float) -> dict[str, list[float]]:
    """The replays' 10th and 90th percentiles of best F1 and hypervolume at ``compute``."""
    values = np.array([at(progress(r, axis), np.array([compute]))[0] for r in replays])
    low, high = np.percentile(values, BAND, axis=0)
    return {
        "best_f1": [round(float(low[0]), 2), round(float(high[0]), 2)],
        "hypervolume": [round(float(low[1]), 1), round(float(high[1]), 1)],
    }


def judge(real: dict[str, Any], replays: list[Replay]) -> dict[str, Any]:
    """One real search against the replays' bands, on both compute axes."""
    shown = {k: v for k, v in real.items() if k != "trials_list"}
    out: dict[str, Any] = {"real": shown, "bands": {}, "inside": {}}
    for axis, key in AXES.items():
        b = band(replays, axis, real[key])
        out["bands"][axis] = b
        inside = {
            name: bool(b[name][0] <= real[name] <= b[name][1])
            for name in ("best_f1", "hypervolume")
        }
        inside["both"] = inside["best_f1"] and inside["hypervolume"]
        out["inside"][axis] = inside
    return out


def counts(judged: list[dict[str, Any]]) -> dict[str, Any]:
    """Per strategy and axis: how many real searches fell inside the band."""
    out: dict[str, Any] = {}
    for j in judged:
        entry = out.setdefault(j["real"]["strategy"], {"searches": 0})
        entry["searches"] += 1
        for axis, inside in j["inside"].items():
            for name, ok in inside.items():
                key = f"{axis}:{name}"
                entry[key] = entry.get(key, 0) + int(ok)
            low, high = j["bands"][axis]["best_f1"]
            entry.setdefault(f"{axis}:best_f1_band_widths", []).append(round(high - low, 2))
    for entry in out.values():  # a band as wide as the scale holds anything: say how wide
        for axis in AXES:
            widths = entry.pop(f"{axis}:best_f1_band_widths", [0.0])
            entry[f"{axis}:best_f1_band_width_median"] = float(np.median(widths))
    return out


def aliases(text: str | None) -> dict[str, Strategy]:
    """``real-name=SPEC;...``: the simulator's strategy (any --strategies item) for real searches
    recorded under another name, e.g. ``mine=default:epoch=4``."""
    out: dict[str, Strategy] = {}
    for item in [part.strip() for part in (text or "").split(";") if part.strip()]:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise UserError(f"--as: {item!r} is not REAL_NAME=STRATEGY")
        out[name.strip()] = parse_strategies(spec.strip())[0]
    return out


def check(
    table_path: str, real_path: str, seeds: int, noise: str, processes: int, known: dict,
    learn_real: bool = False,
) -> dict:  # fmt: skip
    """Every real search against replays of its strategy; with ``learn_real`` the surrogate of
    each one is refitted on the table plus the runs of all the other real searches."""

    table = load_table(table_path)
    real = read_real(Path(real_path))
    surrogate = fit(table, noise=noise)
    rows = train_rows(surrogate)
    judged, skipped, errors = [], [], []
    for r in real:
        strategy = known.get(r["strategy"]) or STRATEGIES.get(r["strategy"])
        if strategy is None:
            skipped.append(r["strategy"])
            continue
        if learn_real:
            fitted = fit(with_others(table, real, r, rows), noise=noise)
        elif any(c.source == source_of(r) for c in table.curves):
            fitted = fit(without(table, r), noise=noise)
        else:
            fitted = surrogate
        errors.append(fitted.error["mae_final_f1"])
        budget = Budget(r["trials"])
        runs = _replays(fitted, strategy, seeds, r["workers"], budget, processes)
        judged.append(judge(r, runs))
    about = {
        "table": table_path,
        "real": real_path,
        "seeds": seeds,
        "noise": noise,
        "band": list(BAND),
        "surrogate": surrogate.error,
        "learn_real": learn_real,
        "surrogate_final_f1_mae_per_search": errors,
        "skipped_strategies": sorted(set(skipped)),
        "as": {name: s.name for name, s in known.items()},
    }
    return {"about": about, "counts": counts(judged), "searches": judged}


_CACHE: dict[tuple, list[Replay]] = {}


def _replays(surrogate, strategy, seeds, workers, budget, processes) -> list[Replay]:
    """The replays of one strategy on one surrogate, once (searches alike share them)."""
    key = (id(surrogate), strategy.name, seeds, workers, budget)
    if key not in _CACHE:
        _CACHE[key] = run_all(surrogate, [strategy], seeds, workers, budget, processes)[
            strategy.name
        ]
    return _CACHE[key]


def render(result: dict) -> str:
    fitted = "with the other real searches" if result["about"]["learn_real"] else "on the table"
    lines = [
        f"{result['about']['seeds']} replays per strategy, noise {result['about']['noise']}, "
        f"surrogate fitted {fitted}; "
        f"real searches inside the replays' {BAND[0]}-{BAND[1]}% band at their own compute"
    ]
    for name, c in result["counts"].items():
        n = c["searches"]
        for axis in AXES:
            lines.append(
                f"{name:<16}{axis:<9} best F1 {c[f'{axis}:best_f1']}/{n}, hypervolume "
                f"{c[f'{axis}:hypervolume']}/{n}, both {c[f'{axis}:both']}/{n}; best-F1 band "
                f"{c[f'{axis}:best_f1_band_width_median']:.1f} F1 wide (median)"
            )
    if result["about"]["skipped_strategies"]:
        names = ", ".join(result["about"]["skipped_strategies"])
        lines.append(f"not replayed (no such strategy; map them with --as): {names}")
    for j in result["searches"]:
        r, b = j["real"], j["bands"]["examples"]
        lines.append(
            f"  {r['strategy']} seed {r['seed']}: best F1 {r['best_f1']:.2f} in "
            f"{b['best_f1']}, HV {r['hypervolume']:.0f} in {b['hypervolume']} "
            f"at {r['train_examples']:.0f} examples"
        )
    return "\n".join(lines)

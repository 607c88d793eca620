"""Real searches (``python -m search.run``, tiny model, built-in sample data), one per seed, each
recorded into one JSON file: the evidence a default strategy is judged by, and what the
simulator's replays are checked against.

    python bench/real_searches.py --strategy default --seeds 1-10
    python bench/real_searches.py --strategy random --seeds 1-5 -- --sampler random --pruner none
    python bench/real_searches.py --strategy trainer --seeds 1-5 --runner trainer

Everything after ``--`` goes to ``search.run`` as it is. ``--runner trainer`` runs
bench/trainer_search.py instead: the search ``Trainer.hyperparameter_search`` runs (Optuna's TPE
and median pruner on F1, a trial's value its last evaluation's) on the service's space and loop.
Each search runs under ``flock /work/cpu.lock`` (two heavy measurements never share the 2 cores)
in a fresh temporary directory with its own SQLite study, and is recorded as soon as it ends; a
(strategy, seed) pair already in the file is skipped, so an interrupted run resumes where it
stopped.

The file (``bench/results/real_searches.json``) holds ``{"format": ..., "searches": [...]}``; each
search: ``strategy``, ``runner``, ``seed``, ``flags`` (given to the runner after the common ones),
``trials``, ``workers``, ``machine`` (load averages at start and end), ``wall_s`` (the command's,
waiting for the lock included), ``span_s`` (first trial's start to last trial's end, where
recorded); ``best_f1`` and ``hypervolume`` (COMPLETE trials' (F1, AUPRC) front against the origin,
as the simulator's metrics; a single-objective trial's pair is its last evaluation's, as its value
is), ``complete``/``pruned``/``fail`` counts; ``compute`` = ``train_s``, ``eval_s`` (sums over
trials of the run's own timings) and ``train_examples`` (train examples stepped over); ``trials``:
per trial ``number``, ``state``, ``params``, ``values``, ``evals`` (``{step: [f1, auprc]}``),
``eval_costs`` (``{step: [seconds since training started, train examples]}``), ``timings_s``,
``pruned_at`` and ``worker``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness
import numpy as np
import optuna

from search._attrs import EVAL_COSTS_ATTR, PRUNED_AT, RUN_ATTR, trial_evals, trial_record
from search.simulate._metrics import hypervolume

OUT = harness.RESULTS / "real_searches.json"
FORMAT = "real_searches/1"
LOCK = "/work/cpu.lock"
ENV = {**os.environ, "PYTHONPATH": str(harness.ROOT), "HF_HUB_OFFLINE": "1"}
ENV["TOKENIZERS_PARALLELISM"] = "false"


def seeds_of(text: str) -> list[int]:
    """``1-10`` or ``1,4,7``."""
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(part) for part in text.split(",")]


def load(path: Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text())
    return {"format": FORMAT, "searches": []}


RUNNERS = {
    "search.run": ["-m", "search.run", "--quiet"],
    "trainer": [str(harness.ROOT / "bench" / "trainer_search.py")],
}


def run_one(
    strategy: str, seed: int, trials: int, workers: int, flags: list[str], lock: str,
    runner: str = "search.run",
) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="real-search-") as tmp:
        storage = f"sqlite:///{Path(tmp) / 'study.db'}"
        cmd = ["flock", lock] if lock else []
        cmd += [sys.executable, *RUNNERS[runner], "--trials", str(trials),
               "--workers", str(workers), "--seed", str(seed), "--storage", storage,
               "--study", "s", *flags]  # fmt: skip
        load_start = harness.load_average()
        started = time.time()
        subprocess.run(cmd, check=True, cwd=tmp, env=ENV)
        wall = time.time() - started
        study = optuna.load_study(study_name="s", storage=storage)
        record = summary(study)
    machine = harness.machine_record(load_start)
    return {"strategy": strategy, "runner": runner, "seed": seed, "flags": flags, "trials": trials,
            "workers": workers, "machine": machine, "wall_s": round(wall, 1), **record}  # fmt: skip


def summary(study: optuna.Study) -> dict[str, Any]:
    rows = [trial_row(t) for t in study.get_trials(deepcopy=False)]
    complete = [r for r in rows if r["state"] == "complete" and r["values"]]
    points = [front_point(r) for r in complete]
    costs = [trial_cost(r) for r in rows]
    trials = study.get_trials(deepcopy=False)
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    span = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    return {
        "span_s": round(span, 1) if span is not None else None,
        "best_f1": max((p[0] for p in points), default=0.0),
        "hypervolume": round(hypervolume(points), 2),
        **{s: sum(r["state"] == s for r in rows) for s in ("complete", "pruned", "fail")},
        "compute": {
            "train_s": round(sum(c["train_s"] for c in costs), 1),
            "eval_s": round(sum(c["eval_s"] for c in costs), 1),
            "train_examples": int(sum(c["train_examples"] for c in costs)),
        },
        "trials": rows,
    }


def front_point(row: dict[str, Any]) -> tuple[float, float]:
    """A complete trial's (F1, AUPRC): its values, or for a single-objective trial (F1 alone)
    its last evaluation's pair."""
    if len(row["values"]) >= 2:
        return row["values"][0], row["values"][1]
    last = row["evals"][str(max(int(s) for s in row["evals"]))] if row["evals"] else [0.0, 0.0]
    return last[0], last[1]


def trial_row(t: optuna.trial.FrozenTrial) -> dict[str, Any]:
    run = trial_record(t, RUN_ATTR) or {}
    return {
        "number": t.number,
        "state": t.state.name.lower(),
        "params": t.params,
        "values": t.values,
        "evals": trial_evals(t),
        "eval_costs": trial_record(t, EVAL_COSTS_ATTR) or {},
        "timings_s": {k: round(v, 2) for k, v in (run.get("timings_s") or {}).items()},
        "pruned_at": t.user_attrs.get(PRUNED_AT) or trial_record(t, PRUNED_AT),
        "worker": t.user_attrs.get("worker"),
    }


SHARES = (90, 95, 99)  # 90: a level most 40-trial searches reach; 95 and 99 are the targets


def trial_cost(row: dict[str, Any]) -> dict[str, float]:
    """What one trial spent: train examples, and training and evaluation seconds apart."""
    timings = row.get("timings_s") or {}
    examples = max((c[1] for c in (row.get("eval_costs") or {}).values()), default=0)
    return {"train_examples": float(examples), "train_s": float(timings.get("train", 0.0)),
            "eval_s": float(timings.get("eval", 0.0))}  # fmt: skip


def compute_to(search: dict[str, Any], target: float) -> dict[str, float] | None:
    """The compute a search spent until it held a run of F1 >= ``target``: every trial up to and
    including the first COMPLETE one whose result reaches it, in trial-number order (the order
    trials start; with two workers a trial still running beside it is counted whole), or None
    where no trial did. A trial's result is what ``front_point`` says it ended with."""
    spent = {"train_examples": 0.0, "train_s": 0.0, "eval_s": 0.0}
    for row in sorted(search["trials"], key=lambda r: r["number"]):
        for key, value in trial_cost(row).items():
            spent[key] += value
        if row["state"] == "complete" and row["values"] and front_point(row)[0] >= target:
            return {**{k: round(v, 1) for k, v in spent.items()},
                    "seconds": round(spent["train_s"] + spent["eval_s"], 1)}  # fmt: skip
    return None


def to_best(searches: list[dict[str, Any]]) -> dict[str, Any]:
    """Compute to each share in ``SHARES`` of the best run any real search in the file found, per
    strategy:
    how many searches reached each target and the median compute (a search that never reached
    it counts as more than any that did, so the median exists only where over half reached it);
    and the default's medians over random's and the Trainer equivalent's."""
    best = max((s["best_f1"] for s in searches), default=0.0)
    by: dict[str, list[dict]] = {}
    for found in searches:
        by.setdefault(found["strategy"], []).append(found)
    out: dict[str, Any] = {"best_f1": best, "source": "the best complete run of any search here",
                           "targets": {}}  # fmt: skip
    for share in SHARES:
        target = best * share / 100
        entry: dict[str, Any] = {"f1": round(target, 2), "strategies": {}}
        for name, group in by.items():
            reached = [compute_to(s, target) for s in group]
            done = [r for r in reached if r is not None]
            median = None
            if 2 * len(done) > len(group):
                median = {
                    key: round(float(np.median([r[key] if r else np.inf for r in reached])), 1)
                    for key in ("train_examples", "train_s", "eval_s", "seconds")
                }
            entry["strategies"][name] = {
                "reached": len(done), "searches": len(group), "median": median,
            }  # fmt: skip
        entry["ratios"] = _ratios(entry["strategies"])
        out["targets"][str(share)] = entry
    return out


def _ratios(strategies: dict[str, Any]) -> dict[str, Any]:
    """The default's median compute over random's and the Trainer equivalent's, where recorded."""
    mine = (strategies.get("default") or {}).get("median")
    out: dict[str, Any] = {}
    for other in ("random", "trainer"):
        if other not in strategies or "default" not in strategies:
            continue
        theirs = strategies[other]["median"]
        if mine is None or theirs is None:
            why = "the default" if mine is None else other
            out[f"default_over_{other}"] = {"none": f"{why}: not reached by over half"}
            continue
        out[f"default_over_{other}"] = {
            key: round(mine[key] / theirs[key], 3) for key in ("train_examples", "seconds")
        }
    return out


def summarize(path: Path) -> dict[str, dict[str, Any]]:
    """Per strategy: the seeds run, best F1 (min, median, min over median), hypervolume, pruned
    trials and compute (medians)."""
    by: dict[str, list[dict]] = {}
    for found in load(path)["searches"]:
        by.setdefault(found["strategy"], []).append(found)
    out = {}
    for name, runs in by.items():
        f1 = sorted(r["best_f1"] for r in runs)
        median = float(np.median(f1))
        out[name] = {
            "seeds": [r["seed"] for r in runs],
            "best_f1": [round(v, 2) for v in f1],
            "worst_over_median": round(f1[0] / median, 3) if median else None,
            "hypervolume_median": round(float(np.median([r["hypervolume"] for r in runs])), 1),
            "pruned_median": float(np.median([r["pruned"] for r in runs])),
            **{
                f"{key}_median": round(float(np.median([r["compute"][key] for r in runs])), 1)
                for key in ("train_s", "eval_s", "train_examples")
            },
        }
    return out


def main() -> None:
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strategy", help="a name for the flags after --")
    p.add_argument("--seeds", help="1-10 or 1,4,7")
    p.add_argument("--summary", action="store_true", help="print the file's summary, run nothing")
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--runner", choices=sorted(RUNNERS), default="search.run")
    p.add_argument("--lock", default=LOCK, help="file each search holds with flock ('' for none)")
    args = p.parse_args(argv)
    if args.summary or not (args.strategy and args.seeds):
        data = load(args.out)
        if data["searches"]:  # the derived figures, from the code as it is
            data["to_best"] = to_best(data["searches"])
            harness.save_result(args.out, data)
        print(json.dumps({**summarize(args.out), "to_best": data.get("to_best")}, indent=1))
        return
    for seed in seeds_of(args.seeds):
        data = load(args.out)
        if any(s["strategy"] == args.strategy and s["seed"] == seed for s in data["searches"]):
            continue
        found = run_one(
            args.strategy, seed, args.trials, args.workers, flags, args.lock, args.runner
        )
        data = load(args.out)  # another invocation may have appended meanwhile
        data["searches"].append(found)
        data["to_best"] = to_best(data["searches"])
        harness.save_result(args.out, data)
        print(
            f"{args.strategy} seed {seed}: best F1 {found['best_f1']:.2f}, hypervolume "
            f"{found['hypervolume']:.0f}, pruned {found['pruned']}/{len(found['trials'])}, "
            f"compute {found['compute']}, wall {found['wall_s']} s, load "
            f"{found['machine']['load_average_start']} -> {found['machine']['load_average_end']}",
            flush=True,
        )


if __name__ == "__main__":
    main()

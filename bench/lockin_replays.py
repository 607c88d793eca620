"""Replays of the default strategy's variants at a user's first search (40 trials, 2 workers):
which levers keep the worst runs near the median (lock-in) and what they cost.

    python bench/lockin_replays.py --seeds 40 --json bench/results/lockin_replays.json

Each variant is the service's own sampler and MO-ASHA stopper (as ``search.simulate`` replays
them) with one or more levers changed: ``rank=step`` is TPE ranking pruned trials by the deepest
optimizer step they reached (how Optuna reads their curves), ``rank=eval`` by the evaluation count
(the rung) they reached; ``trials=K`` is MO-ASHA's ``min_trials`` (a rung stops nobody until it
holds K results, so the first K trials run to the end); ``r``/``run`` are ``--min-resource`` and
``--evals-per-run``; ``design`` has the start-up follow the study's design (search._design),
as the default does, and ``explore=K`` draws every K-th trial after it at random (``--explore``;
the default is ``design,explore=3``). ``--only`` replays the variants named and keeps the file's
others. Per variant: best F1 and hypervolume at the end (10th percentile, median, 10th
percentile over median), pruned trials, compute in simulated seconds and training examples, and
the pruning regret (share of the final front's configurations that were stopped).
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import harness
import numpy as np
import optuna

import search._sampling
from common._cli import quiet_libraries
from search.pruning._pruner import make_pruner
from search.simulate import _metrics as metrics
from search.simulate._replay import Budget, replay
from search.simulate._schedule import Cadence, train_rows
from search.simulate._strategies import STRATEGIES, Strategy
from search.simulate._surrogate import fit
from search.simulate._table import load_table
from storage._optuna import study_trials

TABLE = "bench/tables/tiny-random.jsonl.gz"


@dataclass(frozen=True)
class Variant(Strategy):
    min_trials: int = 3
    rank: str = "eval"
    startup: int = 8  # TPE's random trials before it models
    exempt: int = 0  # every exempt-th trial is never stopped (a bracket that runs to the end)
    design: bool = False  # the start-up follows the study's design (search._design), not draws
    explore: int = 0  # every explore-th trial after the start-up is drawn at random

    def new_sampler(self, seed: int, design=()) -> optuna.samplers.BaseSampler:
        return search._sampling.PrunedAwareTPESampler(
            seed=seed,
            multivariate=True,
            constant_liar=True,
            n_startup_trials=self.startup,
            design=design if self.design else (),
            explore=self.explore,
        )

    def new_pruner(self):
        pruner = make_pruner(
            self.pruner, self.reduction_factor, self.min_resource, min_trials=self.min_trials
        )
        return _Exempt(pruner, self.exempt) if self.exempt else pruner


class _Exempt:
    def __init__(self, stopper, every: int) -> None:
        self.stopper, self.every = stopper, every

    def keep_going(self, study, trial, step, values) -> bool:
        keep = self.stopper.keep_going(study, trial, step, values)
        return keep or trial.number % self.every == 0


def variant(name, rank, trials=3, r=1, run=12, startup=8, exempt=0, design=False, explore=0):
    base = STRATEGIES["default"]
    fields = {f: getattr(base, f) for f in ("sampler", "pruner", "objectives", "reduction_factor")}
    return Variant(name, **fields, min_resource=r, cadence=Cadence(evals_per_run=run),
                   min_trials=trials, rank=rank, startup=startup, exempt=exempt,
                   design=design, explore=explore)  # fmt: skip


DESIGN = "rank=eval,r=3,startup=16,design"
VARIANTS = [
    variant("rank=step", "step"),
    variant("rank=eval", "eval"),
    variant("rank=step,trials=8", "step", trials=8),
    variant("rank=eval,trials=8", "eval", trials=8),
    variant("rank=eval,trials=12", "eval", trials=12),
    variant("rank=eval,r=3", "eval", r=3),
    variant("rank=eval,run=4", "eval", run=4),
    variant("rank=eval,run=4,trials=8", "eval", run=4, trials=8),
    variant("rank=ignore", "ignore"),
    variant("rank=ignore,trials=8", "ignore", trials=8),
    variant("rank=ignore,r=3", "ignore", r=3),
    variant("rank=eval,startup=16", "eval", startup=16),
    variant("rank=ignore,startup=16", "ignore", startup=16),
    variant("rank=eval,trials=8,startup=16", "eval", trials=8, startup=16),
    variant("rank=eval,r=3,trials=8", "eval", r=3, trials=8),
    variant("rank=eval,r=3,startup=16", "eval", r=3, startup=16),
    variant("rank=eval,r=3,trials=8,startup=16", "eval", r=3, trials=8, startup=16),
    variant("rank=eval,trials=20", "eval", trials=20),
    variant("rank=eval,exempt=3", "eval", exempt=3),
    variant("rank=eval,r=3,exempt=3", "eval", r=3, exempt=3),
    variant("rank=eval,r=3,exempt=2", "eval", r=3, exempt=2),
    # the default: the 16 start-up trials follow the study's design
    variant(DESIGN, "eval", r=3, startup=16, design=True),
    # ... and every K-th trial after it is drawn at random
    *(
        variant(f"{DESIGN},explore={k}", "eval", r=3, startup=16, design=True, explore=k)
        for k in (2, 3, 5)
    ),
    replace(STRATEGIES["random-moasha"]),
    replace(STRATEGIES["random"]),
    replace(STRATEGIES["tpe"]),
]

_STATE: dict = {}
HOOK = "_get_trials"


def _init(surrogate, rows) -> None:
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _STATE.update(surrogate=surrogate, rows=rows, keyed=search._sampling.by_evaluation)
    # the project's own wrapper method, named for the hook Optuna's TPE reads trials through
    _STATE["get"] = getattr(search._sampling._FirstDirection, HOOK)


def _unpruned(self, *args, **kwargs):
    """``rank=ignore``: TPE sees no pruned trial at all."""
    trials = study_trials(self._study, *args, **kwargs)
    return [t for t in trials if t.state != optuna.trial.TrialState.PRUNED]


def _one(job):
    strategy, seed, trials = job
    rank = getattr(strategy, "rank", "eval")
    search._sampling.by_evaluation = _STATE["keyed"] if rank == "eval" else (lambda t: t)
    wrapper = search._sampling._FirstDirection
    setattr(wrapper, HOOK, _unpruned if rank == "ignore" else _STATE["get"])
    r = replay(_STATE["surrogate"], strategy, seed, 2, Budget(trials=trials), _STATE["rows"])
    curve = metrics.progress(r, "seconds")
    best, hv = (curve[-1, 1], curve[-1, 2]) if len(curve) else (0.0, 0.0)
    last = r.trials[-1] if r.trials else {}
    regret = metrics.pruning_regret(r)
    return {
        "best_f1": float(best),
        "hypervolume": float(hv),
        "pruned": sum(t["state"] == "pruned" for t in r.trials),
        "seconds": float(last.get("at_seconds", 0.0)),
        "examples": float(last.get("at_examples", 0.0)),
        "regret": regret["share"],
        "f1_lost": regret["f1_lost"],
    }


def summarize(runs: list[dict]) -> dict:
    out = {}
    for key in ("best_f1", "hypervolume", "pruned", "seconds", "examples", "regret", "f1_lost"):
        values = np.array([r[key] for r in runs])
        out[key] = {
            "min": round(float(values.min()), 2),
            "p10": round(float(np.percentile(values, 10)), 2),
            "median": round(float(np.median(values)), 2),
            "mean": round(float(values.mean()), 3),
        }
    med = out["best_f1"]["median"]
    out["p10_over_median"] = round(out["best_f1"]["p10"] / med, 3) if med else None
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=40)
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--only", help="variant names separated by ';'")
    p.add_argument("--table", default=TABLE, help=f"the learning-curve table (default {TABLE})")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    quiet_libraries()
    load_start = harness.load_average()
    table = load_table(args.table)
    surrogate = fit(table)
    chosen = [v for v in VARIANTS if not args.only or v.name in args.only.split(";")]
    jobs = [(v, seed, args.trials) for v in chosen for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.processes, initializer=_init,
                             initargs=(surrogate, train_rows(surrogate))) as pool:  # fmt: skip
        results = list(pool.map(_one, jobs, chunksize=4))
    out = {"table": args.table, "seeds": args.seeds, "trials": args.trials, "workers": 2,
           "reference_f1": round(surrogate.reference_f1(), 2), "variants": {}}  # fmt: skip
    if args.only and args.json and args.json.exists():  # the other variants' runs are kept
        out["variants"] = json.loads(args.json.read_text(encoding="utf-8"))["variants"]
    for i, v in enumerate(chosen):
        runs = results[i * args.seeds : (i + 1) * args.seeds]
        out["variants"][v.name] = {"summary": summarize(runs), "runs": runs}
        s = out["variants"][v.name]["summary"]
        f1 = s["best_f1"]
        print(
            f"{v.name:26s} F1 min/p10/med {f1['min']:5.1f} {f1['p10']:5.1f} {f1['median']:5.1f}"
            f" (p10/med {s['p10_over_median']}), hv med "
            f"{s['hypervolume']['median']:5.0f}, pruned {s['pruned']['median']:4.1f}, s "
            f"{s['seconds']['median']:5.0f}, ex {s['examples']['median']:7.0f}, regret "
            f"{s['regret']['mean']:.2f}"
        )
    out["machine"] = harness.machine_record(load_start)
    if args.json:
        harness.save_result(args.json, out)
    print(f"load average {load_start} -> {harness.load_average()} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()

"""The service's own cost: the share of a worker's time not spent training or evaluating, and
per-trial overhead against bare Optuna on the same storage.

    python bench/overhead.py service [--runs 3] [--trials 40]
        runs the default search (``python -m search.run --trials 40``) in a fresh directory with a
        fresh cache, RUNS times one after the other, and prints for each the share of the
        workers' wall time outside training and evaluation (goal < 3%), and the share of the
        whole command's time (start-up included) outside them
    python bench/overhead.py service --storage sqlite:///searches.db --study NAME
        the same share for a search that has already run
    python bench/overhead.py per-trial [--trials 20] [--seconds 0.5]
        the fake trial at a fixed duration, run by search.run's worker and by a bare
        study.optimize loop on the same kind of storage, interleaved; prints per-trial wall time
        of each and the ratio (goal <= 1.2x)

Both save JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import itertools

import harness
import optuna
from optuna.trial import TrialState

from common._cli import quiet_libraries
from search._attrs import trial_run
from storage._opening import open_storage

ROOT = Path(__file__).resolve().parent.parent


def service_share(storage: str, study_name: str) -> dict:
    """Each worker's wall time (its first trial's start to its last trial's end), summed over the
    workers, against the time its trials spent in training and evaluation by their own timing
    records. The search's bookkeeping at each evaluation (``report``: storage writes, pruning
    decisions), tokenizing, model set-up and the gaps between trials all count as overhead.
    Worker start-up before the first trial (imports, data, the model's resolution) is not in
    this share: :func:`run_default` measures it as part of the whole command."""
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    trials = [t for t in study.trials if t.datetime_start and t.datetime_complete]
    by_worker: dict[str, list] = {}
    for t in trials:
        by_worker.setdefault(t.user_attrs.get("worker", "?"), []).append(t)
    wall = sum(
        (max(t.datetime_complete for t in ts) - min(t.datetime_start for t in ts)).total_seconds()
        for ts in by_worker.values()
    )
    parts = {"train": 0.0, "eval": 0.0, "report": 0.0, "tokenize": 0.0, "startup": 0.0}
    for t in trials:
        timings = trial_run(t).get("timings_s", {})
        for key in parts:
            parts[key] += timings.get(key, 0.0)
    working = parts["train"] + parts["eval"]
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    return {
        "trials": len(trials),
        "complete": sum(t.state == TrialState.COMPLETE for t in trials),
        "pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "workers": len(by_worker),
        "trials_span_s": round((last - first).total_seconds(), 2),
        "worker_wall_s": round(wall, 2),
        "train_s": round(parts["train"], 2),
        "eval_s": round(parts["eval"], 2),
        "report_s": round(parts["report"], 2),
        "tokenize_s": round(parts["tokenize"], 2),
        "overhead_s": round(wall - working, 2),
        "overhead_share": round(1 - working / wall, 4),
        "goal": 0.03,
        "met": 1 - working / wall < 0.03,
    }


def run_default(
    trials: int, workdir: Path, flags: tuple[str, ...] = (), env: dict | None = None
) -> dict:
    """``python -m search.run --trials N`` as a user runs it on a fresh machine: a new directory
    and a new cache (the sample data, the tiny model and the tokenized data are built again),
    timed from the command's start to its exit; then :func:`service_share` of the study.
    ``flags`` are added to the command, ``env`` to its environment."""
    cache = workdir / "cache"
    env = {**os.environ, **(env or {}), "RE_SEARCH_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "search.run", "--trials", str(trials), "--quiet", *flags]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    command_wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"search.run failed ({done.returncode}): {done.stderr[-2000:]}")
    storage = f"sqlite:///{workdir / 'searches.db'}"
    names = optuna.get_all_study_names(open_storage(storage))
    result = service_share(storage, names[0])
    result["command_wall_s"] = round(command_wall, 2)
    study = optuna.load_study(study_name=names[0], storage=open_storage(storage))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    result["best_micro_f1"] = round(max(t.values[0] for t in complete), 2) if complete else None
    result["best_auprc"] = round(max(t.values[1] for t in complete), 2) if complete else None
    recipe = study.trials[0]  # the KLUE recipe, enqueued first
    recipe_done = recipe.state == TrialState.COMPLETE
    result["klue_recipe"] = [round(v, 2) for v in recipe.values] if recipe_done else None
    # every second of the command outside the workers' training and evaluation: start-up of the
    # launcher and the workers, the tiny model's and data's first build, the closing summary
    working = result["train_s"] + result["eval_s"]
    budget = command_wall * result["workers"]
    result["whole_command_overhead_share"] = round(1 - working / budget, 4)
    return result


def _fake_settings(seconds: float) -> dict:
    # the fake trial walks 4 evaluations per epoch; tiny space epochs 1..3 vary its length, so the
    # duration is fixed per evaluation and both contenders see the same trials (same sampler seed)
    return {"seconds_per_eval": seconds}


def run_ours(tmp: Path, trials: int, seconds: float, tag: str) -> list[float]:
    from search.run import main
    from search.testing import ENV, RUNNER

    os.environ[ENV] = json.dumps(_fake_settings(seconds))

    storage = f"sqlite:///{tmp / f'ours-{tag}.db'}"
    main(
        ["--runner", RUNNER, "--storage", storage,
         "--study", "o", "--trials", str(trials), "--workers", "1", "--pruner", "none",
         "--sampler", "random",
         "--seed", "0", "--quiet"]
    )  # fmt: skip
    return _trial_walls(storage, "o")


def run_bare(tmp: Path, trials: int, seconds: float, tag: str) -> list[float]:
    """What a user would write with Optuna alone: suggest, train (the same fake trial), return
    both metrics; no evaluations recorded, no pruning, no attributes, no artifacts."""
    from objectives._hparams import RunSettings, hparams_from_mapping
    from search._sampling import suggest
    from search._space import load_space
    from search.testing import ENV, fake_fine_tune

    os.environ[ENV] = json.dumps(_fake_settings(seconds))
    data = harness.sample_data()
    space = load_space(model="tiny")
    settings = RunSettings()

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        hp = hparams_from_mapping(suggest(trial, space), "trial")
        result = fake_fine_tune(hp, settings, data, None, None)
        return result.metrics["micro_f1"], result.metrics["auprc"]

    storage = f"sqlite:///{tmp / f'bare-{tag}.db'}"
    study = optuna.create_study(
        storage=open_storage(storage),
        study_name="b",
        directions=["maximize", "maximize"],
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.optimize(objective, n_trials=trials)
    return _trial_walls(storage, "b")


def _trial_walls(storage: str, name: str) -> list[float]:
    """Per-trial wall time including the gap to the previous trial (the worker's loop)."""
    study = optuna.load_study(study_name=name, storage=open_storage(storage))
    done = sorted(
        (t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)),
        key=lambda t: t.datetime_start,
    )
    walls = []
    for prev, cur in itertools.pairwise(done):
        walls.append((cur.datetime_complete - prev.datetime_complete).total_seconds())
    return walls


def per_trial(trials: int, seconds: float, rounds: int) -> dict:
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            ours += run_ours(Path(tmp), trials, seconds, str(i))
            bare += run_bare(Path(tmp), trials, seconds, str(i))
    o, b = statistics.median(ours), statistics.median(bare)
    return {
        "trials_per_round": trials,
        "rounds": rounds,
        "seconds_per_eval": seconds,
        "ours_median_trial_s": round(o, 4),
        "bare_optuna_median_trial_s": round(b, 4),
        "ratio": round(o / b, 3),
        "overhead_ms_per_trial": round((o - b) * 1000, 1),
        "goal": 1.2,
        "met": o / b <= 1.2,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/overhead.py")
    sub = parser.add_subparsers(dest="part", required=True)
    s = sub.add_parser("service")
    s.add_argument("--storage", help="analyse this finished search instead of running one")
    s.add_argument("--study", help="with --storage")
    s.add_argument("--runs", type=int, default=3)
    s.add_argument("--trials", type=int, default=40)
    p = sub.add_parser("per-trial")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--seconds", type=float, default=0.1, help="fake seconds per evaluation")
    p.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    quiet_libraries()
    load_start = harness.load_average()
    if args.part == "service" and args.storage:
        if not args.study:
            parser.error("--storage needs --study")
        result = service_share(args.storage, args.study)
    elif args.part == "service":
        runs = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
                run = run_default(args.trials, Path(tmp))
            run["load_average_after"] = harness.load_average()
            print(json.dumps({"run": i + 1, **run}), flush=True)
            runs.append(run)
        shares = [r["overhead_share"] for r in runs]
        result = {
            "command": f"python -m search.run --trials {args.trials}",
            "runs": runs,
            "overhead_share_median": statistics.median(shares),
            "whole_command_overhead_share_median": statistics.median(
                r["whole_command_overhead_share"] for r in runs
            ),
            "goal": 0.03,
            "met_in_runs": sum(r["met"] for r in runs),
        }
    else:
        result = per_trial(args.trials, args.seconds, args.rounds)
    result["machine"] = harness.machine_record(load_start)
    print(json.dumps(result, indent=2))
    name = args.part.replace("-", "_") + ("_study" if getattr(args, "storage", None) else "")
    out = harness.save_result(harness.RESULTS / f"overhead_{name}.json", result)
    print(f"saved {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

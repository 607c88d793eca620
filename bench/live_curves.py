"""What the live learning curves and study note cost a worker.

    python bench/live_curves.py [--trials 40 200] [--evals 20] [--repeats 5]

For studies of each size (SQLite, trials with ``--evals`` evaluations of two objectives, one
running), measures side by side in one run:

- a rebuild (the figure of every trial's curves and the study note, written into the study), at
  most once per period while trials run, and at each trial's end;
- an evaluation (the running trial's evaluations stored and the running trials' figure saved);
- a due evaluation whose rebuild another worker made recently (the check of the study's clock).

and prints the overhead of the default period (``--live-every`` 30 s): a rebuild per period, a
study-clock check per period, and the evaluation cost at one evaluation per ``--eval-seconds`` (a
real trial evaluates every few minutes; 10 s is pessimistic). Saves JSON in
bench/results/live_curves.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import harness
import optuna

from search._attrs import HYPOTHESES, set_trial_evals, trial_evals
from search._config import DataFiles, Deployment, SearchConfig, SearchPlan, default
from search._live import LiveView
from storage._optuna import trial_id

DEFAULT_EVERY = default("live_every")


def _study(path: Path, trials: int, evals: int) -> tuple[optuna.Study, SearchConfig]:
    storage = f"sqlite:///{path}"
    study = optuna.create_study(directions=["maximize"] * 2, storage=storage, study_name="bench")
    study.set_user_attr(HYPOTHESES, [{"text": "learning_rate > 1e-4 helps f1", "from_trial": 0}])
    for n in range(trials):
        trial = study.ask({"learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-3)})
        done = evals if n % 3 == 0 else evals // 3  # two in three pruned early
        curve = {str(50 * k): [k * 3.0 + n % 7, k * 2.0 + n % 5] for k in range(1, done + 1)}
        set_trial_evals(trial, curve)
        if n < trials - 1 and done == evals:
            study.tell(trial, curve[str(50 * done)])
        elif n < trials - 1:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    config = SearchConfig(
        SearchPlan(trials=trials, model="tiny"),
        DataFiles(train="t", dev="d"),
        Deployment(storage=storage, study="bench"),
    )
    return study, config


def _median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(trials: int, evals: int, repeats: int, eval_seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        study, config = _study(Path(tmp) / "study.db", trials, evals)
        running = study.trials[-1]
        trial = optuna.Trial(study, trial_id(running))
        view = LiveView(config, every=DEFAULT_EVERY)
        rebuild = _median_seconds(lambda: view.refresh(study, force=True), repeats)
        curve = dict(trial_evals(running))

        def evaluation():
            view.last_local = time.monotonic()  # its own clock: no rebuild due
            view.at_evaluation(study, trial, curve)

        per_eval = _median_seconds(evaluation, repeats * 4)
        other = LiveView(config, every=DEFAULT_EVERY)  # due locally, rebuilt by another worker

        def study_clock():
            other.last_local = -float("inf")
            other.at_evaluation(study, trial, curve)

        checked = _median_seconds(study_clock, repeats) - per_eval
    overhead = rebuild / DEFAULT_EVERY + per_eval / eval_seconds + checked / DEFAULT_EVERY
    return {
        "trials": trials,
        "rebuild_s": round(rebuild, 4),
        "evaluation_s": round(per_eval, 4),
        "study_clock_check_s": round(max(checked, 0.0), 4),
        "overhead_at_default_period": round(overhead, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[40, 200])
    parser.add_argument("--evals", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--eval-seconds", type=float, default=10.0)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    load = harness.load_average()
    rows = [measure(n, args.evals, args.repeats, args.eval_seconds) for n in args.trials]
    print(f"live curves and note, period {DEFAULT_EVERY:.0f} s, an evaluation every "
          f"{args.eval_seconds:.0f} s")  # fmt: skip
    for row in rows:
        print(
            f"{row['trials']:>4} trials: rebuild {row['rebuild_s'] * 1000:7.1f} ms, "
            f"an evaluation {row['evaluation_s'] * 1000:5.1f} ms, "
            f"study clock {row['study_clock_check_s'] * 1000:5.1f} ms, "
            f"overhead {row['overhead_at_default_period']:.2%} of a worker's time"
        )
    record = {"rows": rows, "live_every_s": DEFAULT_EVERY, "eval_seconds": args.eval_seconds,
              "machine": harness.machine_record(load)}  # fmt: skip
    harness.print_closing(record["machine"], harness.save_result(
        harness.RESULTS / "live_curves.json", record))  # fmt: skip


if __name__ == "__main__":
    main()

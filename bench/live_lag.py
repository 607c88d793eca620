"""How far the dashboard's live curves are behind the trials, measured from outside.

    python bench/live_lag.py [--workers 2] [--trials 10] [--eval-seconds 1.0] [--poll 0.1]

Runs ``search.run`` with the fake trial (each evaluation takes ``--eval-seconds``) and polls the
storage the dashboard reads every ``--poll`` seconds. For every evaluation of every trial it
notes when the database had it (the trial's intermediate values, written at the evaluation) and
when the running trials' figure had it; for every trial that ends, when the figure dropped it.
Prints evaluations behind (the worst poll) and seconds behind, for first evaluations (a trial
seconds old) and later ones, and the seconds from a trial's end to its removal from the figure.
A trial's last evaluation (its pruning or end) is shown in the figure of every trial, not the
running one, and is left out. Saves JSON in bench/results/live_lag.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import optuna
from optuna.trial import TrialState
from optuna_dashboard._custom_plot_data import get_plotly_graph_objects

from search.analysis._curves import RUNNING_ID
from search.testing import RUNNER, fake_env
from storage._opening import open_storage

_LABEL = re.compile(r"trial (\d+) \(running\)")


def snapshot(storage: optuna.storages.BaseStorage, study_id: int) -> tuple[dict, dict | None, set]:
    """(running trial -> evaluations in the database, running trial -> evaluations in the
    running trials' figure or None when it was read half-written, trials that ended).

    The trials are read before the figure and again after it: a trial that ended in between is
    rightly gone from the newer figure, so it is left out of this poll's comparison (a poller
    slowed between its reads would otherwise count all its evaluations as behind)."""
    before = storage.get_all_trials(study_id, deepcopy=False)
    system = storage.get_study_system_attrs(study_id)
    after = storage.get_all_trials(study_id, deepcopy=False)
    still = {t.number for t in after if t.state == TrialState.RUNNING}
    stored = {
        t.number: len(t.intermediate_values)
        for t in before
        if t.state == TrialState.RUNNING and t.number in still
    }
    ended = {t.number for t in after if t.state.is_finished()}
    try:
        figure = json.loads(get_plotly_graph_objects(system).get(RUNNING_ID, '{"data": []}'))
    except ValueError:  # read while a worker wrote its chunks: the dashboard retries, so do we
        return stored, None, ended
    plotted = {}
    for trace in figure["data"]:
        found = _LABEL.match(trace["hovertemplate"])
        if found and trace.get("xaxis", "x") == "x":  # the first objective's panel
            plotted[int(found.group(1))] = len(trace["x"])
    return stored, plotted, ended


class LagMeter:
    """Fed one snapshot per poll; keeps when each evaluation reached the database and the figure."""

    def __init__(self) -> None:
        self.in_db: dict[tuple[int, int], float] = {}
        self.in_figure: dict[tuple[int, int], float] = {}
        self.ended_at: dict[int, float] = {}
        self.dropped_at: dict[int, float] = {}
        self.final: dict[int, int] = {}
        self.worst_behind = 0
        self.polls = 0
        self.torn = 0  # figures read while a worker was writing them

    def add(self, now: float, stored: dict, plotted: dict | None, ended: set) -> None:
        if plotted is None:
            self.torn += 1
            return
        self.polls += 1
        for number, count in stored.items():
            for k in range(1, count + 1):
                self.in_db.setdefault((number, k), now)
            self.worst_behind = max(self.worst_behind, count - plotted.get(number, 0))
        for number, count in plotted.items():
            for k in range(1, count + 1):
                self.in_figure.setdefault((number, k), now)
        for number in ended:
            self.ended_at.setdefault(number, now)
            if number not in plotted:
                self.dropped_at.setdefault(number, now)

    def summary(self, final: dict[int, int]) -> dict:
        """``final``: each trial's evaluations in all (its last one is left out)."""
        first, later = [], []
        for (number, k), seen in self.in_db.items():
            if k >= final.get(number, 0) or (number, k) not in self.in_figure:
                continue
            lag = max(0.0, self.in_figure[(number, k)] - seen)
            (first if k == 1 else later).append(lag)
        missed = sum(
            1 for (n, k) in self.in_db if k < final.get(n, 0) and (n, k) not in self.in_figure
        )
        ends = [self.dropped_at[n] - t for n, t in self.ended_at.items() if n in self.dropped_at]
        return {
            "polls": self.polls,
            "torn_reads": self.torn,
            "evaluations": len(first) + len(later),
            "never_plotted": missed,
            "worst_evaluations_behind": self.worst_behind,
            "first_evaluation_s": _stats(first),
            "later_evaluations_s": _stats(later),
            "trial_end_to_dropped_s": _stats(ends),
        }


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}  # fmt: skip


def run(workers: int, trials: int, eval_seconds: float, poll: float, cwd: Path) -> dict:
    url = f"sqlite:///{cwd / 'study.db'}"
    command = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--storage", url,
        "--study", "lag", "--trials", str(trials), "--workers", str(workers), "--seed", "0",
        "--quiet", "--live-every", "30",
    ]  # fmt: skip
    env = fake_env(seconds_per_eval=eval_seconds)
    log = open(cwd / "search.log", "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    meter = LagMeter()
    try:
        storage, study_id = _wait_for_study(url, proc)
        while proc.poll() is None:
            meter.add(time.monotonic(), *snapshot(storage, study_id))
            time.sleep(poll)
        final = {t.number: len(t.intermediate_values) for t in storage.get_all_trials(study_id)}
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait()
        log.close()
    if proc.returncode != 0:
        raise SystemExit((cwd / "search.log").read_text()[-2000:])
    return meter.summary(final)


def _wait_for_study(url: str, proc: subprocess.Popen) -> tuple:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            storage = open_storage(url)
            study_id = storage.get_study_id_from_name("lag")
            if storage.get_all_trials(study_id):
                return storage, study_id
        except (KeyError, optuna.exceptions.StorageInternalError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"search.run made no study (exit code {proc.poll()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--eval-seconds", type=float, default=1.0)
    parser.add_argument("--poll", type=float, default=0.1)
    args = parser.parse_args()
    load = harness.load_average()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.workers, args.trials, args.eval_seconds, args.poll, Path(tmp))
    print(f"live curves, {args.workers} workers, an evaluation every {args.eval_seconds} s, "
          f"polled every {args.poll} s: {result['evaluations']} evaluations")  # fmt: skip
    print(f"  worst poll: {result['worst_evaluations_behind']} evaluation(s) behind; "
          f"never plotted: {result['never_plotted']}")  # fmt: skip
    for key in ("first_evaluation_s", "later_evaluations_s", "trial_end_to_dropped_s"):
        print(f"  {key}: {result[key]}")
    record = {"result": result, "settings": vars(args), "machine": harness.machine_record(load)}
    harness.print_closing(record["machine"], harness.save_result(
        harness.RESULTS / "live_lag.json", record))  # fmt: skip


if __name__ == "__main__":
    main()

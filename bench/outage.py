"""A search through a PostgreSQL outage: trials lost, trials left RUNNING, and how it ended.

    python bench/outage.py [--outages 11,75,300] [--trials 8] [--workers 2] [--name outage]

For each outage length (seconds), on a throwaway cluster of its own (``initdb`` on a free port;
as root it runs as the ``postgres`` user): starts ``search.run`` with the fake trial
(``search.testing``, about 3 s a trial), the default heartbeat and the default storage retry
window, stops the server at once (``pg_ctl -m immediate``) when a trial has finished and another
is running, starts it again OUTAGE seconds later, and waits for the launcher to exit. Records its
exit code and last error line, the wall time, the finished, failed and RUNNING trials, whether
every failed trial's parameters were run again by its retry ("lost" counts those that were not:
a retry left WAITING once the launch had its trials counts as lost), and the launcher's restart
lines. Saves ``bench/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import harness
import optuna
from optuna.trial import TrialState

from search._study import FINISHED
from search.testing import RUNNER, fake_env
from storage._opening import open_storage
from storage.testing import Cluster


def trials_of(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(url, heartbeat_interval=None, pool_size=1)
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials()
    except KeyError:
        return []
    finally:
        storage.engine.dispose()


def _retries(failed: optuna.trial.FrozenTrial, trials: list) -> list[optuna.trial.FrozenTrial]:
    """The trials enqueued to redo ``failed`` (its number in their retry history)."""
    return [t for t in trials if failed.number in t.system_attrs.get("retry_history", [])]


def _run_again(failed: optuna.trial.FrozenTrial, trials: list) -> bool:
    """Whether a failed trial's parameters were run to the end again: by its retry, or by a
    finished trial with the same parameters."""
    if any(t.state in FINISHED for t in _retries(failed, trials)):
        return True
    same = tuple(sorted(failed.params.items()))
    return any(t.state in FINISHED and tuple(sorted(t.params.items())) == same for t in trials)


def one_outage(outage: float, trials: int, workers: int, work: Path) -> dict:
    with Cluster() as cluster:
        return _through(cluster, outage, trials, workers, work)


def _through(cluster: Cluster, outage: float, trials: int, workers: int, work: Path) -> dict:
    command = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--storage", cluster.url,
        "--study", "outage", "--trials", str(trials), "--workers", str(workers),
        "--artifacts", str(work / "artifacts"), "--seed", "0", "--quiet",
    ]  # fmt: skip
    env = fake_env(seconds_per_eval=0.5)
    env.pop("RE_SEARCH_STORAGE_RETRY_S", None)  # the default window
    started = time.monotonic()
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=work
    )
    try:
        while True:
            states = [t.state for t in trials_of(cluster.url, "outage")]
            if sum(s in FINISHED for s in states) >= 1 and TrialState.RUNNING in states:
                break
            if proc.poll() is not None:
                raise SystemExit(f"the search ended before the outage: {proc.stderr.read()}")
            time.sleep(0.2)
        cluster.stop()
        stopped = time.monotonic() - started
        time.sleep(outage)
        cluster.start()
        _, err = proc.communicate(timeout=outage + 1800)
        wall = time.monotonic() - started
        found = trials_of(cluster.url, "outage")
    finally:
        if proc.poll() is None:
            proc.kill()
    failed = [t for t in found if t.state == TrialState.FAIL]
    lost = [t.number for t in failed if not _run_again(t, found)]
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    return {
        "outage_s": outage,
        "stopped_at_s": round(stopped, 1),
        "exit_code": proc.returncode,
        "wall_s": round(wall, 1),
        "finished": sum(t.state in FINISHED for t in found),
        "failed": len(failed),
        "left_running": sum(t.state == TrialState.RUNNING for t in found),
        "lost": lost,
        "left_waiting": sum(t.state == TrialState.WAITING for t in found),
        "failed_trials": [
            {
                "number": t.number,
                "params": len(t.params),
                "reason": t.user_attrs.get("fail_reason"),
                "retries": [(r.number, r.state.name) for r in _retries(t, found)],
            }
            for t in failed
        ],
        "restart_lines": [line for line in err.splitlines() if "starting it again" in line],
        "error_lines": errors,
        "tracebacks": err.count("Traceback"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", default="11,75,300", help="seconds, comma-separated")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--name", default="outage", help="bench/results/NAME.json")
    args = parser.parse_args()
    load_start = harness.load_average()
    runs = []
    for outage in (float(x) for x in args.outages.split(",")):
        with tempfile.TemporaryDirectory() as work:
            run = one_outage(outage, args.trials, args.workers, Path(work))
        runs.append(run)
        print(
            f"outage {outage:g} s: exit {run['exit_code']}, {run['finished']} of {args.trials} "
            f"finished, {run['failed']} failed, {len(run['lost'])} lost, "
            f"{run['left_running']} left RUNNING, {len(run['restart_lines'])} restarts, "
            f"{run['tracebacks']} tracebacks, {run['wall_s']:.0f} s"
        )
        for line in run["error_lines"]:
            print(f"  {line}")
    record = {
        "command": "python bench/outage.py " + " ".join(sys.argv[1:]),
        "trials": args.trials,
        "workers": args.workers,
        "runs": runs,
        "machine": harness.machine_record(load_start),
    }
    saved = harness.save_result(harness.RESULTS / f"{args.name}.json", record)
    harness.print_closing(record["machine"], saved)


if __name__ == "__main__":
    main()

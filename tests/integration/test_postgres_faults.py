"""Faults on the shared Postgres study, with real worker processes and the fake trial.

A worker SIGKILLed mid-trial, and the Postgres server restarted mid-study: the study still
reaches its count of finished trials, no trial is lost, none is counted twice, none stays
RUNNING.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import trial_record
from search._study import FINISHED
from search.testing import RUNNER, fake_env
from storage._opening import open_storage

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used:UserWarning"),
]

# Trials of about 2-6 s (1-3 epochs, 4 evaluations each, 0.5 s per evaluation): long enough to be
# caught mid-trial, short enough for a quick test.
FAKE = fake_env(seconds_per_eval=0.5)
TRIALS = 12
WORKERS = 4
HEARTBEAT = 3  # seconds; a dead worker's trial is stale after twice that


def start_search(
    url: str, study: str, tmp_path: Path, heartbeat: int = HEARTBEAT
) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", url, "--study", study, "--artifacts", str(tmp_path / "artifacts"),
        "--trials", str(TRIALS), "--workers", str(WORKERS), "--heartbeat", str(heartbeat),
        "--seed", "0", "--quiet",
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=FAKE
    )


def trials_of(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(url, heartbeat_interval=None, pool_size=1)
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials()
    except KeyError:
        return []
    finally:
        storage.engine.dispose()


def wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 240.0):
    """Poll ``condition()`` until it returns something truthy; the search must still be running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"search ended (exit {proc.returncode}) before {what}: {err}")
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def finish(proc: subprocess.Popen, timeout: float = 600.0) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"search did not finish in {timeout} s: {err}") from None
    return proc.returncode, err


def check_nothing_lost(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """The count is reached, every trial number is one trial, nothing is left RUNNING."""
    numbers = collections.Counter(t.number for t in trials)
    assert not [n for n, c in numbers.items() if c > 1], f"duplicate trial numbers: {numbers}"
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    finished = [t for t in trials if t.state in FINISHED]
    assert len(finished) == TRIALS, [(t.number, t.state.name) for t in trials]
    for trial in finished:
        if trial.state == TrialState.COMPLETE:
            assert len(trial.values) == 2 and trial_record(trial, "evals")
    return finished


def retries_of(failed, trials):
    """The trials Optuna's heartbeat enqueued to redo ``failed`` (its number in their history)."""
    return [t for t in trials if failed.number in t.system_attrs.get("retry_history", [])]


def test_sigkilled_worker_of_four_is_failed_by_heartbeat_and_retried(postgres_url, tmp_path):
    proc = start_search(postgres_url, "pg-kill4", tmp_path)

    def running_trial():
        return next(
            (
                t
                for t in trials_of(postgres_url, "pg-kill4")
                if t.state == TrialState.RUNNING and t.intermediate_values
            ),
            None,
        )

    try:
        victim = wait_for(running_trial, proc, "a trial mid-way")
        pid = int(victim.user_attrs["worker"].rsplit(":", 1)[1])
        assert pid != proc.pid  # a worker process, not the launcher
        os.kill(pid, signal.SIGKILL)
        code, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    # the launcher says a worker died, starts it again, and succeeds: the study has its trials
    assert code == 0 and "was killed (SIGKILL); starting it again" in err, err
    trials = trials_of(postgres_url, "pg-kill4")
    check_nothing_lost(trials)
    killed = trials[victim.number]
    assert killed.state == TrialState.FAIL
    assert killed.params == victim.params
    retried = retries_of(victim, trials)
    assert len(retried) == 1 and retried[0].params == victim.params
    assert retried[0].state in FINISHED
    # a live worker starved of CPU past the grace period is taken for dead too: its trial must
    # then be retried like the killed one, never lost
    for failed in (t for t in trials if t.state == TrialState.FAIL):
        again = retries_of(failed, trials)
        assert again and again[-1].params == failed.params and again[-1].state in FINISHED


def _postgres_cluster() -> list[str] | None:
    """pg_ctlcluster's version and cluster name for the local server, if this machine has one."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return None
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if (p / "main").is_dir())
    return [versions[-1], "main"] if versions else None


def _pg_ctl(action: str, cluster: list[str]) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _wait_until_accepting(url: str, timeout: float = 120.0) -> None:
    import psycopg

    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(libpq, connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_postgres_restart_mid_study_loses_and_doubles_nothing(postgres_url, tmp_path):
    cluster = _postgres_cluster()
    if cluster is None:
        pytest.skip("needs a local Postgres cluster managed by pg_ctlcluster")
    # a heartbeat slower than the outage: no live trial may be taken for a dead one
    proc = start_search(postgres_url, "pg-restart", tmp_path, heartbeat=10)

    def some_finished_and_running():
        trials = trials_of(postgres_url, "pg-restart")
        done = sum(t.state in FINISHED for t in trials)
        running = [t for t in trials if t.state == TrialState.RUNNING and t.intermediate_values]
        return 1 <= done <= TRIALS // 2 and running

    try:
        wait_for(some_finished_and_running, proc, "finished trials and one mid-way")
        _pg_ctl("stop", cluster)
        time.sleep(1.0)  # workers meet a dead server: their next writes fail
        _pg_ctl("start", cluster)
        _wait_until_accepting(postgres_url)
        code, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        if subprocess.run(["pg_ctlcluster", *cluster, "status"], capture_output=True).returncode:
            _pg_ctl("start", cluster)
        _wait_until_accepting(postgres_url)
    assert code == 0, err
    trials = trials_of(postgres_url, "pg-restart")
    check_nothing_lost(trials)
    assert not [t.number for t in trials if t.state == TrialState.FAIL]
    logs = "".join(p.read_text() for p in (tmp_path / "logs" / "pg-restart").glob("worker-*.log"))
    assert "retrying for up to" in logs  # the workers really met the dead server
    assert "Traceback" not in logs

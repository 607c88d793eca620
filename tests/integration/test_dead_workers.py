"""A worker SIGKILLed in the middle of a long trial: its launcher fails the trial with a reason at
once and enqueues it again, the restarted worker runs the retry before any new configuration
(while the other worker is still busy with its own long trial), and a launcher whose study
reached its target exits 0."""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from search.testing import RUNNER, fake_env
from storage._opening import open_storage

pytestmark = pytest.mark.integration

HEARTBEAT_S = 10  # a grace period (20 s) longer than a worker's start on a loaded machine
GRACE_S = 2 * HEARTBEAT_S
LONG_TRIAL = 60.0  # seconds per evaluation: about 10 minutes a trial


def _launch(url, study, seconds_per_eval, trials, logs):
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", url, "--study", study, "--trials", str(trials), "--workers", "2",
        "--heartbeat", str(HEARTBEAT_S), "--artifacts", str(logs / "artifacts"), "--quiet",
    ]  # fmt: skip
    env = fake_env(seconds_per_eval=seconds_per_eval)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _trials(url, study):
    storage = open_storage(url, heartbeat_interval=None)
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials()
    except KeyError:
        return []


def _poll(what, proc, limit_s=600):
    """Poll ``what()`` until it returns something, following progress (a loaded machine is slow
    to start workers) but not forever."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError(f"nothing after {limit_s} s")


def _kill_a_running_worker(url, study, proc):
    """SIGKILL the worker of a trial that has reported, once both workers run one."""

    def two_running():
        running = [t for t in _trials(url, study) if t.state == TrialState.RUNNING]
        started = [t for t in running if t.intermediate_values or "worker" in t.user_attrs]
        return started if len(started) == 2 else None

    victim = _poll(two_running, proc)[0]
    os.kill(int(victim.user_attrs["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
    return victim, time.monotonic()


@pytest.fixture(params=["sqlite", "postgresql", "journal", "redis"])
def storage_url(request, tmp_path):
    if request.param in ("sqlite", "journal"):
        return f"{request.param}:///{tmp_path / 'study.db'}"
    return request.getfixturevalue("postgres_url" if request.param == "postgresql" else "redis_url")


def test_dead_workers_trial_is_retried_within_two_grace_periods(storage_url, tmp_path):
    study = f"dead-{os.getpid()}-{time.monotonic_ns()}"
    # more trials than workers: the restarted worker could start a new configuration, and the
    # retry would then wait for a whole trial; its launcher enqueues the retry before the restart
    proc = _launch(storage_url, study, LONG_TRIAL, 4, tmp_path)
    try:
        victim, killed_at = _kill_a_running_worker(storage_url, study, proc)
        before = max(t.number for t in _trials(storage_url, study))

        failed_at = None

        def retry_running():
            nonlocal failed_at
            trials = _trials(storage_url, study)
            if failed_at is None and trials[victim.number].state == TrialState.FAIL:
                failed_at = time.monotonic()
            retry = [t for t in trials if t.system_attrs.get("failed_trial") == victim.number]
            return retry if retry and retry[0].state == TrialState.RUNNING else None

        (retry,) = _poll(retry_running, proc)
        recovery = time.monotonic() - killed_at
        started = [
            t.number
            for t in _trials(storage_url, study)
            if t.number > before and t.state != TrialState.WAITING and t.number != retry.number
        ]
        print(f"failed after {failed_at - killed_at:.1f} s", end="; ")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    print(f"recovery after SIGKILL: {recovery:.1f} s (grace {GRACE_S} s)")
    # the launcher saw its worker die: no grace period passes before the trial is failed, and
    # the restarted worker takes the retry before any new configuration; from then on what the
    # retry waits for is that worker's start (tens of seconds on a loaded machine)
    assert failed_at - killed_at < GRACE_S / 2
    assert started == [], f"trials {started} started before the retry"
    assert "worker 0 was killed" in err or "worker 1 was killed" in err
    trials = _trials(storage_url, study)
    dead = trials[victim.number]
    assert dead.state == TrialState.FAIL
    assert dead.user_attrs["fail_reason"].startswith("worker died: ")
    assert not [t for t in trials if t.state == TrialState.RUNNING]


def test_launcher_exits_0_when_its_trials_finish_despite_a_killed_worker(postgres_url, tmp_path):
    study = f"dead-short-{os.getpid()}"
    proc = _launch(postgres_url, study, 0.5, 3, tmp_path)
    victim, _ = _kill_a_running_worker(postgres_url, study, proc)
    done = (TrialState.COMPLETE, TrialState.PRUNED)
    before = {t.number: t.values for t in _trials(postgres_url, study) if t.state in done}
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    trials = _trials(postgres_url, study)
    finished = [t for t in trials if t.state in done]
    assert len(finished) == 3
    assert all(trials[n].state in done and trials[n].values == v for n, v in before.items())
    assert trials[victim.number].state == TrialState.FAIL
    assert not [t for t in trials if t.state == TrialState.RUNNING]

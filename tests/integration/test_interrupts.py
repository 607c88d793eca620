"""SIGINT/SIGTERM to a search, and a SIGKILLed worker: no trial stays RUNNING, none is lost."""

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

SLOW = fake_env(seconds_per_eval=0.5)


def start(tmp_path, study, *flags, kind="sqlite"):
    if kind == "sqlite":
        storage = f"sqlite:///{tmp_path / 'study.db'}"
    else:
        storage = f"journal:///{tmp_path / 'study.log'}"
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", storage, "--study", study, "--quiet", *flags,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=SLOW
    )
    return proc, storage


def _load(url, name):
    return optuna.load_study(study_name=name, storage=open_storage(url, heartbeat_interval=None))


def wait_for_running(storage, study, proc, timeout=600):
    """Poll the study until a trial has reported: progress, not a fixed time, with a limit that a
    loaded machine (10-15 processes per core) stays under; a launcher that died fails at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            trials = _load(storage, study).trials
        except KeyError:
            trials = []
        if any(t.state == TrialState.RUNNING and t.intermediate_values for t in trials):
            return
        time.sleep(0.2)
    raise AssertionError("no trial started")


@pytest.mark.parametrize(
    ("sig", "code", "workers"),
    [(signal.SIGTERM, 143, "1"), (signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "2")],
)
def test_signal_ends_running_trials_with_a_reason(tmp_path, sig, code, workers):
    proc, storage = start(tmp_path, "sig", "--trials", "50", "--workers", workers)
    wait_for_running(storage, "sig", proc)
    proc.send_signal(sig)
    proc.communicate(timeout=600)
    assert proc.returncode == code
    trials = _load(storage, "sig").trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert failed and all("interrupted by SIG" in t.user_attrs["fail_reason"] for t in failed)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_sigkilled_worker_trial_is_failed_by_heartbeat_and_retried(tmp_path, kind):
    """Optuna's heartbeat on SQLite; the project's own lease on a journal file."""
    flags = ["--heartbeat", "1", "--workers", "1"]  # one process: SIGKILL takes the worker with it
    proc, storage = start(tmp_path, "hb", "--trials", "3", *flags, kind=kind)
    wait_for_running(storage, "hb", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    study = _load(storage, "hb")
    (killed,) = [t for t in study.trials if t.state == TrialState.RUNNING]
    time.sleep(3)  # past the grace period: the dead worker's heartbeat is stale
    proc, _ = start(tmp_path, "hb", "--trials", "2", *flags, kind=kind)
    proc.communicate(timeout=600)
    assert proc.returncode == 0
    trials = _load(storage, "hb").trials
    assert trials[killed.number].state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retried and retried[0].params == killed.params
    assert retried[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert not [t for t in trials if t.state == TrialState.RUNNING]

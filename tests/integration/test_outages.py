"""The launcher watches its workers, with real processes and the fake trial: a worker that gave up
on a storage outage longer than the retry window is started again once the storage answers; a
storage that stays away ends the search with one line at --timeout; workers that keep failing
stop it with their own error line. Exit 2, never a traceback.

The storage retry window is 5 s here (``RE_SEARCH_STORAGE_RETRY_S``), so an outage longer than
it takes seconds, not minutes; the servers are throwaway clusters on ports of their own.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search._study import FINISHED
from search.testing import RUNNER, fake_env
from storage._opening import open_storage
from storage._waits import RETRY_ENV
from storage.testing import Cluster

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used:UserWarning"),
]

WINDOW_S = 5


@pytest.fixture
def cluster():
    pg = Cluster()
    if not pg.available():
        pytest.skip("needs PostgreSQL's initdb and pg_ctl")
    with pg:
        yield pg


def _search(url, tmp_path, *extra, **fake):
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--storage", url,
        "--study", "s", "--artifacts", str(tmp_path / "artifacts"), "--workers", "2",
        "--seed", "0", "--quiet", *extra,
    ]  # fmt: skip
    env = {**fake_env(**fake), RETRY_ENV: str(WINDOW_S)}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _trials(url):
    storage = open_storage(url, heartbeat_interval=None, pool_size=1)
    try:
        return optuna.load_study(study_name="s", storage=storage).get_trials()
    except KeyError:
        return []
    finally:
        storage.engine.dispose()


def _wait_mid_search(url, proc, finished=1):
    """Until ``finished`` trials have finished and another runs (the search must still go on)."""
    while True:
        assert proc.poll() is None, proc.communicate()
        states = [t.state for t in _trials(url)]
        if sum(s in FINISHED for s in states) >= finished and TrialState.RUNNING in states:
            return
        time.sleep(0.2)


def _end(proc, timeout=300):
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def test_workers_that_gave_up_on_a_long_outage_are_started_again(cluster, tmp_path):
    proc = _search(cluster.url, tmp_path, "--trials", "4", "--heartbeat", "2", seconds_per_eval=0.3)
    _wait_mid_search(cluster.url, proc)
    cluster.stop()
    gone = time.monotonic()
    # the workers give up after the window; the server stays away a while longer
    time.sleep(max(0.0, 2.4 * WINDOW_S - (time.monotonic() - gone)))
    cluster.start()
    code, err = _end(proc)
    assert code == 0, err
    assert "starting it again once the storage answers" in err
    assert "Traceback" not in err
    trials = _trials(cluster.url)
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    assert sum(t.state in FINISHED for t in trials) == 4
    # every failed trial was run again, not lost: a finished trial retries it, with its values
    # (a trial failed before it drew any takes the same point again: search._sampling)
    finished = [t for t in trials if t.state in FINISHED]
    for failed in (t for t in trials if t.state == TrialState.FAIL):
        again = [t for t in finished if failed.number in t.system_attrs.get("retry_history", [])]
        assert again, failed.number
        assert all(t.params.items() >= failed.params.items() for t in again)


def test_a_storage_that_stays_away_ends_the_search_at_timeout_with_one_line(cluster, tmp_path):
    args = ("--trials", "2", "--heartbeat", "2", "--timeout", "15")
    proc = _search(cluster.url, tmp_path, *args, seconds_per_eval=0.5)
    _wait_mid_search(cluster.url, proc, finished=0)
    cluster.stop()
    try:
        code, err = _end(proc)
    finally:
        cluster.start()
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2, err
    assert len(errors) == 1 and "the storage does not answer and --timeout has passed" in errors[0]
    assert "Traceback" not in err
    # the same command continues the study: the trials left RUNNING are retried, none stays
    code, err = _end(_search(cluster.url, tmp_path, *args[:4], seconds_per_eval=0.3))
    assert code == 0, err
    trials = _trials(cluster.url)
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    assert sum(t.state in FINISHED for t in trials) >= 2


def test_workers_that_keep_failing_stop_the_search_with_their_error_line(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    proc = _search(url, tmp_path, "--trials", "4", fail_rate=1.0)
    code, err = _end(proc)
    assert code == 2, err
    assert "exited with 1 (error: 3 trials in a row crashed" in err
    assert "starting it again in 1 s" in err  # the backoff, then longer
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert "failed 3 times in a row" in errors[0] and "fake crash" in errors[0]
    assert "Traceback" not in err
    storage = open_storage(url, heartbeat_interval=None)
    trials = optuna.load_study(study_name="s", storage=storage).get_trials()
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]

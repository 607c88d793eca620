"""When the launcher starts a worker again, and when it stops the search instead
(:mod:`search._restarts`), with a pool of stand-ins for worker processes."""

from __future__ import annotations

import signal
import time
from types import SimpleNamespace

import pytest

from search import _restarts as restarts
from search._restarts import MAX_QUICK_FAILURES, Restarts, SearchStopped

STORAGE_LINE = "error: --storage postgresql://db: the database did not answer for 60 s: refused"


class Pool:
    """Two slots; ``exit(i, code, error)`` ends slot ``i``'s worker."""

    def __init__(self) -> None:
        self.slots = [None, None]
        self.procs = [SimpleNamespace(pid=100), SimpleNamespace(pid=101)]
        self.code: list[int | None] = [None, None]
        self.errors: list[str | None] = [None, None]
        self.started = [time.monotonic()] * 2
        self.stopping = None
        self.restarted: list[int] = []
        self.ended = False

    def exit(self, i: int, code: int, error: str | None = None) -> None:
        self.code[i], self.errors[i] = code, error

    def codes(self):
        return list(self.code)

    def error_of(self, i):
        return self.errors[i]

    def alive(self):
        return any(code is None for code in self.code)

    def restart(self, i):
        self.restarted.append(i)
        self.started[i] = time.monotonic()
        self.code[i], self.errors[i] = None, None
        self.procs[i] = SimpleNamespace(pid=self.procs[i].pid + 10)

    def end_workers(self):
        self.ended = True


@pytest.fixture
def retried(monkeypatch):
    calls = []
    monkeypatch.setattr(restarts, "retry_trials_of", lambda _, pid, why: calls.append((pid, why)))
    monkeypatch.setattr(restarts, "FIRST_BACKOFF_S", 0.0)
    return calls


def test_a_worker_that_exits_is_started_again_after_its_trials_are_retried(retried, caplog):
    pool = Pool()
    watch = Restarts(pool, study=None, timeout=None, storage="db")
    pool.exit(0, 1, "error: 3 trials in a row crashed; last: boom")
    watch.poll(done=False, answered=True)
    assert pool.restarted == [0]
    assert retried[-1] == (100, "its process exited with 1")
    assert "worker 0 exited with 1 (error: 3 trials in a row crashed" in caplog.text
    pool.exit(1, -signal.SIGKILL)
    watch.poll(done=False, answered=True)
    assert pool.restarted == [0, 1] and "worker 1 was killed (SIGKILL)" in caplog.text


def test_quick_failures_in_a_row_stop_the_search_with_the_workers_line(retried):
    pool = Pool()
    watch = Restarts(pool, study=None, timeout=None, storage="db")
    with pytest.raises(SearchStopped, match=f"worker 0 failed {MAX_QUICK_FAILURES} times.*boom"):
        for _ in range(MAX_QUICK_FAILURES):
            pool.exit(0, 1, "error: 3 trials in a row crashed; last: boom")
            watch.poll(done=False, answered=True)
    assert pool.ended and pool.restarted == [0] * (MAX_QUICK_FAILURES - 1)


def test_a_worker_that_gave_up_on_the_storage_waits_for_it(retried):
    pool = Pool()
    watch = Restarts(pool, study=None, timeout=None, storage="db")
    for n in range(MAX_QUICK_FAILURES + 1):  # an outage is no failure of the worker's
        pool.exit(0, 2, STORAGE_LINE)
        watch.poll(done=False, answered=False)
        assert pool.restarted == [0] * n and len(retried) == n  # the storage is away
        watch.poll(done=False, answered=True)
        assert pool.restarted == [0] * (n + 1) and retried[-1][1] == "its process exited with 2"


def test_a_storage_that_stays_away_stops_the_search_at_the_timeout(retried, monkeypatch):
    pool = Pool()
    watch = Restarts(pool, study=None, timeout=0.001, storage="db")
    pool.exit(0, 2, STORAGE_LINE)
    watch.poll(done=False, answered=False)  # the other worker still waits out its window
    pool.exit(1, 2, STORAGE_LINE)
    time.sleep(0.01)  # past the timeout
    with pytest.raises(SearchStopped, match="storage does not answer and --timeout has passed"):
        watch.poll(done=False, answered=False)
    assert pool.restarted == []


def test_nothing_starts_again_once_the_search_is_done_or_stopping(retried):
    pool = Pool()
    watch = Restarts(pool, study=None, timeout=None, storage="db")
    pool.exit(0, 1)
    watch.poll(done=True, answered=True)
    pool.stopping = signal.SIGTERM
    pool.exit(1, -signal.SIGTERM)
    watch.poll(done=False, answered=True)
    assert pool.restarted == [] and not watch.pending()


def test_a_worker_stopped_by_a_full_disk_is_not_started_again(retried):
    pool = Pool()
    watch = Restarts(pool, study=None, timeout=None, storage="db")
    pool.exit(0, 2, "error: --storage sqlite:///x.db: the disk is full or read-only: no space")
    watch.poll(done=False, answered=True)
    assert pool.restarted == [] and not watch.pending()

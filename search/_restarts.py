"""The launcher watches its workers: one that exits while trials remain is started again.

A worker that exits with a non-zero status, or that a signal the launcher did not send killed
(SIGKILL, the OOM killer), while its launch still has trials to run, says so on one line and is
started again in its slot after a backoff (:data:`FIRST_BACKOFF_S`, doubling up to
:data:`MAX_BACKOFF_S`). Its RUNNING trials are failed with a reason and enqueued again first
(:func:`search._processes.retry_trials_of`): its process is gone, no grace period needs to pass,
and nobody waits for a trial that nobody runs.

A worker that gave up on the storage (it did not answer for the retry window,
:mod:`storage._retry`) is started again once the storage answers the launcher again. The launcher
waits for that at most :data:`OUTAGE_LIMIT_S`, or until ``--timeout`` has passed since it
started, whichever comes first; then it stops the search with one line (exit 2), and the same
command continues the study once the storage is back.

Any other failure counts: after :data:`MAX_QUICK_FAILURES` exits in a row of one slot's worker,
each within :data:`QUICK_S` of its start, the same failure every time is a broken setup, not
bad luck, and the search stops with that worker's own error line (exit 2). A worker stopped by
a full disk is not started again (:mod:`storage._reserve`).
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass

import optuna

from common._cli import UserError
from search._processes import WorkerPool, retry_trials_of
from storage._retry import DISK_FULL, NO_ANSWER

log = logging.getLogger(__name__)

QUICK_S = 120.0  # a worker that fails sooner after its start failed quickly
MAX_QUICK_FAILURES = 3  # quick failures in a row of one slot that stop the search
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
OUTAGE_LIMIT_S = 1800.0  # the longest a launcher waits for its storage to answer again


class SearchStopped(UserError):
    """The launcher stopped the search: its workers kept failing, or the storage stayed away."""


@dataclass
class _Exited:
    """A slot whose worker exited and is to be started again."""

    pid: int
    reason: str  # why its trials failed
    due: float  # time.monotonic() from which it may start again
    outage: bool  # it gave up on the storage


class Restarts:
    """Decides, at every poll of the launcher, which slots start again (see the module doc)."""

    def __init__(
        self, pool: WorkerPool, study: optuna.Study, timeout: float | None, storage: str
    ) -> None:
        self.pool = pool
        self.study = study
        self.deadline = time.monotonic() + timeout if timeout else None
        self.storage = storage  # as messages show it (password masked)
        self.quick = [0] * len(pool.slots)
        self.exited: dict[int, _Exited] = {}
        self.ended: set[int] = set()  # slots not to start again (a full disk)
        self.down_since: float | None = None

    def pending(self) -> bool:
        """Whether a slot waits to start again."""
        return bool(self.exited)

    def poll(self, done: bool, answered: bool) -> None:
        """Start again the slots that are due, once the storage ``answered`` the launcher's last
        read, unless the search is ``done`` or stopping. Raises :class:`SearchStopped`."""
        now = time.monotonic()
        self.down_since = None if answered else (self.down_since or now)
        if done or self.pool.stopping is not None:
            self.exited.clear()
            return
        for i, code in enumerate(self.pool.codes()):
            if code not in (None, 0) and i not in self.exited and i not in self.ended:
                self._note_exit(i, code, now)
        if not answered:
            self._check_outage(now)
            return
        for i in sorted(self.exited):
            if self.exited[i].due <= now:
                self._start_again(i, now)

    def _note_exit(self, i: int, code: int, now: float) -> None:
        error = self.pool.error_of(i)
        if error is not None and DISK_FULL in error:
            self.ended.add(i)  # the launcher fails its trials once every worker has stopped
            return
        pid = self.pool.procs[i].pid
        how = f"was killed ({_signal_name(-code)})" if code < 0 else f"exited with {code}"
        outage = error is not None and NO_ANSWER in error
        if not outage:
            quick = now - self.pool.started[i] < QUICK_S
            self.quick[i] = self.quick[i] + 1 if quick else 0
            if self.quick[i] >= MAX_QUICK_FAILURES:
                self._give_up(i, how, error)
        delay = min(FIRST_BACKOFF_S * 2 ** max(self.quick[i] - 1, 0), MAX_BACKOFF_S)
        when = "once the storage answers" if outage else f"in {delay:g} s"
        said = f" ({error})" if error else ""
        log.warning("worker %d %s%s; starting it again %s", i, how, said, when)
        self.exited[i] = _Exited(pid, f"its process {how}", now + delay, outage)
        if not outage:  # a quick retry; a storage that is down gets it when it answers
            retry_trials_of(self.study, pid, self.exited[i].reason)

    def _start_again(self, i: int, now: float) -> None:
        exited = self.exited.pop(i)
        retry_trials_of(self.study, exited.pid, exited.reason)
        if self.deadline is not None and now >= self.deadline:
            log.warning("worker %d is not started again: --timeout has passed", i)
            self.ended.add(i)
            return
        self.pool.restart(i)

    def _give_up(self, i: int, how: str, error: str | None) -> None:
        self.pool.end_workers()  # each fails its running trial with a reason
        what = error.removeprefix("error: ") if error else f"it {how}"
        raise SearchStopped(
            f"worker {i} failed {MAX_QUICK_FAILURES} times in a row, each within {QUICK_S:g} s "
            f"of its start; the search stops: {what}"
        )

    def _check_outage(self, now: float) -> None:
        """Stop once no worker runs and the storage has been away past the outage limit or the
        launcher's --timeout."""
        if self.down_since is None or self.pool.alive():
            return  # running workers wait out the storage's retry window themselves
        if now - self.down_since >= OUTAGE_LIMIT_S:
            why = f"the outage limit of {OUTAGE_LIMIT_S:g} s has passed"
        elif self.deadline is not None and now >= self.deadline:
            why = "--timeout has passed"
        else:
            return
        raise SearchStopped(
            f"--storage {self.storage}: the storage does not answer and {why}; the search "
            "stops (the same command continues it once the storage answers)"
        )


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"

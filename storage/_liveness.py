"""Trials of dead workers: found, failed with a reason, and enqueued again with the same parameters.

Relational storages have Optuna's heartbeat. For storages that Optuna gives none (journal files,
Redis) a running trial's worker renews a lease, ``lease_until`` (a system attribute, wall-clock
seconds), every ``interval`` seconds from a background thread; a RUNNING trial that never got a
lease (its worker died, or lost the storage, before the first write) is stale once its grace
period, two intervals, has passed since it started, as a relational trial without a heartbeat
row is. Either way a stale trial gets a
``fail_reason`` that starts with :data:`WORKER_DIED` and a WAITING copy (the same parameters and
user attributes, ``failed_trial`` and ``retry_history`` system attributes as Optuna's
``RetryHeartbeatStaleTrialCallback`` writes), at most ``max_retry`` times per original trial.

:class:`Reaper` looks for stale trials from a background thread every grace period, so a dead
worker's trial is retried within two grace periods, not when another worker's trial ends. Reaping
runs under the study's storage lock, so two workers never retry one trial twice.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from storage._locks import storage_lock
from storage._optuna import has_heartbeat, heartbeat, stale_trial_ids, storage_of, trial_id, unwrap

LEASE_ATTR = "lease_until"
_logger = logging.getLogger(__name__)


class Lease:
    """Keeps one trial's lease alive while the trial runs (``with Lease(...):``)."""

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int, interval: float):
        self.storage = storage
        self.trial_id = trial_id
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trial-lease", daemon=True)

    def __enter__(self) -> Lease:
        self._renew()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        until = time.time() + 2 * self.interval
        self.storage.set_trial_system_attr(self.trial_id, LEASE_ATTR, until)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._renew()
            except UpdateFinishedTrialError:
                return


# the trial attribute that says why a trial failed, and the beginning of its text when the
# trial's worker died (no heartbeat, or a lease not renewed)
FAIL_REASON = "fail_reason"
# the first trial of a chain of retries, named as Optuna's RetryFailedTrialCallback names it
RETRIED_FROM = "failed_trial"
WORKER_DIED = "worker died: "


def retry_stale(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, reason: str, max_retry: int = 2
) -> bool:
    """Fail the RUNNING ``trial`` with ``reason`` and enqueue its parameters again (within
    ``max_retry``). Returns False if another process finished it first."""
    storage = storage_of(study)
    try:
        # the reason first: a finished trial takes no more attributes
        storage.set_trial_user_attr(trial_id(trial), FAIL_REASON, WORKER_DIED + reason)
        if not storage.set_trial_state_values(trial_id(trial), state=TrialState.FAIL):
            return False
    except UpdateFinishedTrialError:
        return False  # another worker got there first
    enqueue_retry(study, trial, max_retry)
    return True


def enqueue_retry(study: optuna.Study, trial: optuna.trial.FrozenTrial, max_retry: int) -> None:
    """A WAITING copy of a failed trial: its parameters and user attributes, less its reason."""
    system_attrs = {RETRIED_FROM: trial.number, "retry_history": [], **trial.system_attrs}
    system_attrs.pop(LEASE_ATTR, None)
    system_attrs["retry_history"] = [*system_attrs["retry_history"], trial.number]
    if max_retry < len(system_attrs["retry_history"]):
        return
    study.add_trial(
        optuna.trial.create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs={k: v for k, v in trial.user_attrs.items() if k != FAIL_REASON},
            system_attrs=system_attrs,
        )
    )


def reap_expired(
    study: optuna.Study,
    max_retry: int = 2,
    now: float | None = None,
    grace: float | None = None,
) -> list[int]:
    """Fail RUNNING trials whose lease ran out, or that have none ``grace`` seconds after they
    started (never, where ``grace`` is None), and enqueue their parameters again.

    Returns the numbers of the trials this call failed.
    """
    now = time.time() if now is None else now
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        until = trial.system_attrs.get(LEASE_ATTR)
        if until is None and grace is not None and _started_before(trial, now - grace):
            reason = f"no lease {grace:g} s after it started"
        elif until is not None and until < now:
            reason = "its lease was not renewed"
        else:
            continue
        if retry_stale(study, trial, reason, max_retry):
            reaped.append(trial.number)
    return reaped


def _started_before(trial: optuna.trial.FrozenTrial, when: float) -> bool:
    """Whether the trial started before the wall-clock time ``when`` (journal storages keep a
    naive local start time)."""
    start = trial.datetime_start
    if start is None:
        return False
    start = start.astimezone() if start.tzinfo is None else start
    return start < datetime.datetime.fromtimestamp(when).astimezone()


def reap_heartbeats(study: optuna.Study, max_retry: int = 2) -> list[int]:
    """Fail RUNNING trials whose heartbeat is older than the storage's grace period, and enqueue
    their parameters again. Returns the numbers of the trials this call failed."""
    storage = storage_of(study)
    if not beats(storage):
        return []
    stale = set(stale_trial_ids(study))
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial_id(trial) in stale and retry_stale(
            study, trial, f"no heartbeat for {_grace(storage)} s", max_retry
        ):
            reaped.append(trial.number)
    return reaped


def beats(storage: optuna.storages.BaseStorage) -> bool:
    """Whether Optuna keeps a heartbeat for the storage's running trials."""
    return has_heartbeat(storage)


def _grace(storage: optuna.storages.BaseStorage) -> int:
    backend = unwrap(storage)  # under Optuna's cache
    interval = storage.get_heartbeat_interval() or 0
    return getattr(backend, "grace_period", None) or 2 * interval


def reap_stale(
    study: optuna.Study, max_retry: int = 2, lease_grace: float | None = None
) -> list[int]:
    """Retry the trials of dead workers, by heartbeat where the storage beats, else by lease
    (a trial without one is stale ``lease_grace`` seconds after its start; see the module doc)."""
    with storage_lock(storage_of(study), f"study:{study.study_name}"):
        if beats(storage_of(study)):
            return reap_heartbeats(study, max_retry)
        return reap_expired(study, max_retry, grace=lease_grace)


class Reaper:
    """Runs :func:`reap_stale` every ``every`` seconds (the lease interval) in a background thread
    (``with Reaper(study, every):``). A storage error skips a round; the next one tries again."""

    def __init__(self, study: optuna.Study, every: float, max_retry: int = 2) -> None:
        self.study = study
        self.every = every
        self.max_retry = max_retry
        self.reaped: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stale-trials", daemon=True)

    def __enter__(self) -> Reaper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.reaped += reap_stale(self.study, self.max_retry, 2 * self.every)
            except Exception as exc:  # the worker's own calls report a lasting outage
                _logger.warning("looking for stale trials failed: %s", exc)


class RetryStaleTrial:
    """The stale-trial callback of relational storages (Optuna calls it after failing a trial of
    a dead worker): enqueue the parameters again, as :func:`retry_stale` does."""

    def __init__(self, max_retry: int = 2) -> None:
        self.max_retry = max_retry

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        enqueue_retry(study, trial, self.max_retry)


def keep_alive(
    storage: optuna.storages.BaseStorage, trial_id: int, interval: float
) -> contextlib.AbstractContextManager:
    """What keeps a running trial from being taken for a dead worker's: Optuna's heartbeat where
    the storage beats, else the project's :class:`Lease`."""
    if beats(storage):
        return heartbeat(storage, trial_id)
    return Lease(storage, trial_id, interval)

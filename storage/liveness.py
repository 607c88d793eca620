"""Heartbeats for storages that Optuna gives none (journal files, Redis): a lease per trial.

A running trial's worker renews ``lease_until`` (a system attribute, wall-clock seconds) every
``interval`` seconds from a background thread. Any worker that finds a RUNNING trial whose lease
ran out fails it and enqueues the same parameters again, as Optuna's
``RetryHeartbeatStaleTrialCallback`` does for relational storages (same ``failed_trial`` and
``retry_history`` system attributes, so reports treat both alike). Two workers reaping the same
trial cannot both retry it: only one can move it out of RUNNING.
"""

from __future__ import annotations

import threading
import time

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

LEASE_ATTR = "lease_until"


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


def reap_expired(study: optuna.Study, max_retry: int = 2, now: float | None = None) -> list[int]:
    """Fail RUNNING trials whose lease ran out and enqueue their parameters again.

    Returns the numbers of the trials this call failed.
    """
    now = time.time() if now is None else now
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        until = trial.system_attrs.get(LEASE_ATTR)
        if until is None or until >= now:
            continue
        try:
            # the reason first: a finished trial takes no more attributes
            study._storage.set_trial_user_attr(
                trial._trial_id, "fail_reason", "worker stopped renewing its lease (died?)"
            )
            ok = study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue  # another worker got there first
        if not ok:
            continue
        reaped.append(trial.number)
        system_attrs = {"failed_trial": trial.number, "retry_history": [], **trial.system_attrs}
        system_attrs.pop(LEASE_ATTR, None)
        system_attrs["retry_history"] = [*system_attrs["retry_history"], trial.number]
        if max_retry < len(system_attrs["retry_history"]):
            continue
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                user_attrs={k: v for k, v in trial.user_attrs.items() if k != "fail_reason"},
                system_attrs=system_attrs,
            )
        )
    return reaped

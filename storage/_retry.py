"""A relational storage that waits out a database that went away for a while (and the same
retry for the gRPC proxy's client, :mod:`storage._grpc_client`).

Pre-ping (in :mod:`storage._urls`) replaces a pooled connection that a restarted server closed,
but a call made while the server is down (a restart, a fail-over), or one whose connection drops
mid-query, still fails. Such a failure would end the trial, or the worker. Here every storage
call that fails with a connection-level error is tried again with backoff for up to
``retry_for`` seconds (:func:`storage._waits.retry_window`); after that, one line names the
database (password masked) and the cause.

Retried calls are idempotent except the creation of a trial: if the server committed it but the
answer was lost, the retry creates a second trial and the first, never beaten for, stays RUNNING.
That needs the connection to drop between the commit and its acknowledgement.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import optuna
import sqlalchemy
import sqlalchemy.exc
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from common._cli import UserError
from storage._liveness import FAIL_REASON, WORKER_DIED
from storage._optuna import RDB_MODELS as models
from storage._optuna import RDB_SESSION as _create_scoped_session
from storage._optuna import StaleTrialHook
from storage._waits import retry_window

log = logging.getLogger(__name__)

NO_ANSWER = "did not answer for"  # the words of every line that says the window passed
_FIRST_DELAY_S = 0.2
_MAX_DELAY_S = 1.0  # short: a worker's heartbeat must resume soon after the server is back
_TRANSIENT = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
)
# RDBStorage methods that only compute or that manage the schema are not retried.
_NOT_RETRIED = frozenset(
    {
        "get_heartbeat_interval",
        "get_heartbeat_stale_trial_callback",
        "remove_session",
        "upgrade",
        "get_current_version",
        "get_head_version",
        "get_all_versions",
        "_build_frozen_trial_from_trial_model",
        "_fill_storage_url_template",
        "_set_default_engine_kwargs_for_mysql",
        "_create_unique_study_name",
    }
)

F = TypeVar("F", bound=Callable[..., Any])
_inside = threading.local()  # an outer call already retries: a nested one must not multiply it


class StorageUnavailable(UserError):
    """The database did not answer for the whole retry window."""


class StorageFull(UserError):
    """The database's disk is full or read-only: no retry cures that.

    ``left_running`` maps the trials the raising process could not fail for want of room (trial
    id -> fail reason); its launcher fails them once its workers stop (:mod:`storage._reserve`).
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.left_running: dict[int, str] = {}


DISK_FULL = "the disk is full or read-only"  # the words of every line that says so
# what a database says when its disk takes no more writes (SQLite, PostgreSQL, MySQL)
_NO_SPACE_WORDS = (
    "database or disk is full",
    "readonly database",
    "read-only file system",
    "no space left on device",
    "could not extend file",
    "disk full",
    "the table is full",
)


def no_space_reason(exc: BaseException) -> str | None:
    """The driver's words if ``exc`` says the database's disk is full or read-only."""
    reason = reason_of(exc)
    return reason if any(word in reason.lower() for word in _NO_SPACE_WORDS) else None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a lost or refused connection, not a bad request."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT) or _grpc_unavailable(current):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def _grpc_unavailable(exc: BaseException) -> bool:
    """A gRPC call that found no server: the storage proxy is restarting (``grpc`` is loaded only
    in processes that use a ``grpc://`` storage)."""
    grpc = sys.modules.get("grpc")
    if grpc is None or not isinstance(exc, grpc.RpcError) or not callable(exc.code):
        return False
    return exc.code() == grpc.StatusCode.UNAVAILABLE


def reason_of(exc: BaseException) -> str:
    """The driver's own words for the innermost database error, on one line."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.orig is not None:
            lines = [line.strip() for line in str(current.orig).splitlines() if line.strip()]
            return "; ".join(lines)
        if _grpc_unavailable(current) and callable(getattr(current, "details", None)):
            return f"the gRPC proxy is unavailable: {current.details()}"
        current = current.__cause__ or current.__context__
    return type(exc).__name__


def call_with_retry(call: Callable[[], Any], what: str, retry_for: float) -> Any:
    """Run ``call()``, trying again on transient errors until ``retry_for`` seconds have passed.

    ``what`` names the database in messages (its password already masked).
    """
    deadline = time.monotonic() + retry_for
    delay = _FIRST_DELAY_S
    announced = False
    while True:
        try:
            return call()
        except Exception as exc:
            full = no_space_reason(exc)
            if full is not None:
                raise StorageFull(f"--storage {what}: {DISK_FULL}: {full}") from None
            if not is_transient(exc):
                raise
            reason = reason_of(exc)
            if time.monotonic() + delay > deadline:
                raise StorageUnavailable(
                    f"--storage {what}: the database {NO_ANSWER} {retry_for:g} s: {reason}"
                ) from None
            if not announced:
                log.warning("storage: %s: %s; retrying for up to %g s", what, reason, retry_for)
                announced = True
        time.sleep(delay)
        delay = min(2 * delay, _MAX_DELAY_S)


def _retrying(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "active", False):
            return method(self, *args, **kwargs)
        _inside.active = True
        try:
            return call_with_retry(
                lambda: method(self, *args, **kwargs), self.display_url, self.retry_for
            )
        finally:
            _inside.active = False

    return wrapper  # type: ignore[return-value]


class RetryingRDBStorage(StaleTrialHook, optuna.storages.RDBStorage):
    """Optuna's RDBStorage whose database calls survive a server restart (see the module doc).

    ``display_url`` is the URL as messages show it (password masked); ``retry_for`` the longest
    wait, in seconds, before a call gives up with :class:`StorageUnavailable` (default:
    :func:`retry_window`).
    """

    def __init__(
        self, url: str, *, display_url: str, retry_for: float | None = None, **kwargs: Any
    ) -> None:
        self.display_url = display_url
        self.retry_for = retry_window() if retry_for is None else retry_for
        super().__init__(url, **kwargs)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        """Optuna's, except that a RUNNING trial is finished by one conditional UPDATE (``WHERE
        state = 'RUNNING'``): of two processes finishing the same trial (Optuna's stale-trial
        check and :mod:`storage._liveness`'s reaper, or two workers' checks) exactly one succeeds
        and the other gets :class:`UpdateFinishedTrialError`, so one of them enqueues the retry.
        Optuna reads the state and then writes it, which on SQLite (no ``FOR UPDATE``) lets both
        see RUNNING and both succeed."""
        if not state.is_finished():
            return super().set_trial_state_values(trial_id, state, values)
        with _create_scoped_session(self.scoped_session) as session:
            claimed = session.execute(
                sqlalchemy.update(models.TrialModel)
                .where(models.TrialModel.trial_id == trial_id)
                .where(models.TrialModel.state == TrialState.RUNNING)
                .values(state=state)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed:
                trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
                trial.datetime_complete = datetime.now()
                for objective, value in enumerate(values or ()):
                    self._store_value(session, trial, objective, value)
                return True
        current = self.get_trial(trial_id).state  # KeyError for an unknown trial, as Optuna's
        if current.is_finished():
            raise UpdateFinishedTrialError(f"trial {trial_id} has already finished")
        return super().set_trial_state_values(trial_id, state, values)  # a WAITING trial

    def _store_value(self, session: Any, trial: Any, objective: int, value: float) -> None:
        """One objective value of a trial this process just finished (Optuna's own helper refuses
        a finished trial)."""
        stored, value_type = models.TrialValueModel.value_to_stored_repr(value)
        row = models.TrialValueModel.find_by_trial_and_objective(trial, objective, session)
        if row is None:
            session.add(
                models.TrialValueModel(
                    trial_id=trial.trial_id,
                    objective=objective,
                    value=stored,
                    value_type=value_type,
                )
            )
        else:
            row.value, row.value_type = stored, value_type

    def on_stale(self, trial_ids: list[int]) -> None:
        """Trials of dead workers, which the caller (Optuna, or :mod:`storage._liveness`) fails
        next: each gets its ``fail_reason`` first, as a finished trial takes no attributes."""
        grace = self.grace_period or 2 * (self.heartbeat_interval or 0)
        for trial_id in trial_ids:
            with contextlib.suppress(UpdateFinishedTrialError):
                self.set_trial_user_attr(
                    trial_id, FAIL_REASON, f"{WORKER_DIED}no heartbeat for {grace} s"
                )


def retry_methods(cls: type, base: type, not_retried: frozenset[str]) -> None:
    """Make every method of ``base`` except ``not_retried`` a retried call on ``cls``, whose
    instances have ``display_url`` and ``retry_for``: the method as ``cls`` resolves it (its own,
    a mixin's, or ``base``'s), undecorated."""
    for name, value in list(vars(base).items()):
        if callable(value) and not name.startswith("__") and name not in not_retried:
            own = next(vars(k)[name] for k in cls.__mro__ if name in vars(k))
            setattr(cls, name, _retrying(own))


retry_methods(RetryingRDBStorage, optuna.storages.RDBStorage, _NOT_RETRIED)

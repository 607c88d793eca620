"""storage._retry: calls that meet a lost database connection are tried again, for a while."""

from __future__ import annotations

import pickle
from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc

from common._cli import UserError
from storage import _retry as retry
from storage import _waits as waits
from storage._opening import open_storage
from storage._retry import RetryingRDBStorage, StorageUnavailable, call_with_retry, is_transient
from storage._waits import RETRY_FOR_S


class _DriverError(Exception):
    pass


def lost_connection(text: str = "server closed the connection unexpectedly") -> Exception:
    """What Optuna raises when the server went away mid-call: StorageInternalError from
    SQLAlchemy's OperationalError from the driver's error."""
    try:
        try:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, _DriverError(text))
        except sqlalchemy.exc.OperationalError as exc:
            raise optuna.exceptions.StorageInternalError("commit failed") from exc
    except optuna.exceptions.StorageInternalError as exc:
        return exc


def test_lost_connections_are_transient_and_bad_requests_are_not() -> None:
    assert is_transient(lost_connection())
    assert is_transient(sqlalchemy.exc.OperationalError("x", {}, _DriverError("refused")))
    integrity = sqlalchemy.exc.IntegrityError("INSERT", {}, _DriverError("duplicate key"))
    assert not is_transient(integrity)
    assert not is_transient(optuna.exceptions.StorageInternalError("too long"))
    assert not is_transient(ValueError("bad value"))


def test_a_call_is_retried_until_the_server_answers(caplog: pytest.LogCaptureFixture) -> None:
    attempts = []

    def call() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise lost_connection()
        return "ok"

    assert call_with_retry(call, "postgresql://u:***@db/x", retry_for=30) == "ok"
    assert len(attempts) == 3
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1  # said once per outage, not once per attempt
    assert "server closed the connection unexpectedly; retrying for up to 30 s" in said[0]


def test_a_database_that_stays_away_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry, "_MAX_DELAY_S", 0.05)
    calls = []

    def call() -> None:
        calls.append(1)
        raise lost_connection("connection refused")

    with pytest.raises(StorageUnavailable) as info:
        call_with_retry(call, "postgresql://u:***@db/x", retry_for=0.5)
    assert isinstance(info.value, UserError) and len(calls) > 1
    assert str(info.value) == (
        "--storage postgresql://u:***@db/x: the database did not answer for 0.5 s: "
        "connection refused"
    )


def test_other_errors_are_not_retried() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise optuna.exceptions.UpdateFinishedTrialError("finished")

    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        call_with_retry(call, "x", retry_for=30)
    assert calls == [1]


def test_relational_storages_retry_every_database_call(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    assert isinstance(storage, RetryingRDBStorage)
    assert getattr(type(storage).set_trial_state_values, "__wrapped__", None) is not None
    assert getattr(type(storage).get_heartbeat_interval, "__wrapped__", None) is None
    again = pickle.loads(pickle.dumps(storage))  # what Optuna does to share a storage
    assert again.display_url == storage.display_url and again.retry_for == RETRY_FOR_S
    study = optuna.create_study(storage=again)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(study.trials) == 2


def test_a_grpc_proxy_that_is_away_is_waited_for_like_a_database() -> None:
    grpc = pytest.importorskip("grpc")
    from storage._grpc_client import RetryingGrpcStorageProxy
    from storage._grpc_lock import WAIT_S

    class Unavailable(grpc.RpcError):
        def __init__(self, code) -> None:
            self._code = code

        def code(self):
            return self._code

        def details(self) -> str:
            return "failed to connect to all addresses"

    assert is_transient(Unavailable(grpc.StatusCode.UNAVAILABLE))
    assert not is_transient(Unavailable(grpc.StatusCode.NOT_FOUND))
    calls = iter([Unavailable(grpc.StatusCode.UNAVAILABLE), "answer"])

    def call():
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retry(call, "grpc://h:1", retry_for=5) == "answer"
    with pytest.raises(StorageUnavailable, match="the gRPC proxy is unavailable: failed to"):
        call_with_retry(lambda: _raise(Unavailable), "grpc://h:1", 0.1)
    # every storage call of the client retries, in the same window as the database's
    assert getattr(RetryingGrpcStorageProxy.get_all_trials, "__wrapped__", None) is not None
    assert WAIT_S == RETRY_FOR_S


def _raise(kind) -> None:
    import grpc

    raise kind(grpc.StatusCode.UNAVAILABLE)


def test_the_retry_window_is_read_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    waits.retry_window.cache_clear()
    monkeypatch.setenv(waits.RETRY_ENV, "5")
    try:
        assert open_storage(f"sqlite:///{tmp_path / 's.db'}").retry_for == 5.0
        waits.retry_window.cache_clear()
        monkeypatch.setenv(waits.RETRY_ENV, "soon")
        with pytest.raises(UserError, match=r"RE_SEARCH_STORAGE_RETRY_S=soon: .* seconds > 0"):
            waits.retry_window()
    finally:
        waits.retry_window.cache_clear()

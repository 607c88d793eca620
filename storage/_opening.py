"""Opening a storage URL: the one place where a URL string becomes an Optuna storage
(:mod:`storage._urls` names and checks the URL).

The URL is the only thing search workers share, so every worker calls :func:`open_storage` with
the same string and gets an equivalent storage: SQLite with WAL and a busy timeout on every
connection; Postgres and MySQL with a small pool, pre-ping and calls retried while the server is
away (:mod:`storage._retry`); journal files (an existing file must be a journal); a journal in Redis
under a key prefix; a gRPC proxy client. Passwords never leave these modules: every message is
built from :func:`storage.mask_url`.
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Mapping
from typing import Any

import optuna
import sqlalchemy.exc
from sqlalchemy.engine import URL, make_url

from common._cli import UserError
from storage._journals import check_journal, open_grpc, open_journal_file, open_redis
from storage._liveness import RetryStaleTrial
from storage._locks import schema_lock
from storage._retry import RetryingRDBStorage
from storage._urls import (
    _CONNECT_TIMEOUT_S,
    _DRIVER_PACKAGES,
    RDB_KINDS,
    _cannot_connect,
    _journal_path,
    check_folder,
    mask_url,
    storage_kind,
)

_SQLITE_BUSY_TIMEOUT_S = 60.0
# Optuna's heartbeat thread holds a second connection while a trial runs, so a worker needs
# `pool_size` connections; the overflow only absorbs short bursts.
_MAX_OVERFLOW = 2


def open_storage(
    url: str,
    *,
    heartbeat_interval: int | None = 60,
    grace_period: int | None = None,
    max_retry: int = 2,
    pool_size: int = 2,
) -> optuna.storages.BaseStorage:
    """Turn a storage URL into an Optuna storage, connecting once to fail fast.

    ``heartbeat_interval`` (seconds, ``None`` for off), ``grace_period`` and ``max_retry``
    configure the heartbeat of the relational storages: a trial whose worker stopped beating for
    ``grace_period`` (default twice the interval) is failed and re-enqueued with the same
    parameters at most ``max_retry`` times. ``pool_size`` is the number of server connections
    one worker keeps open. Raises :class:`UserError` (naming the URL with its password masked)
    for an unknown scheme, a missing driver, or a database that cannot be reached.
    """
    if pool_size < 1:
        raise ValueError(f"pool_size must be at least 1, got {pool_size}")
    if max_retry < 0:
        raise ValueError(f"max_retry must be at least 0, got {max_retry}")
    url = url.strip()
    kind = storage_kind(url)
    # Experimental-API warnings would be printed by every worker at start; these features are
    # chosen on purpose here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        heartbeat = _heartbeat_kwargs(heartbeat_interval, grace_period, max_retry)
        if kind == "memory":
            return optuna.storages.InMemoryStorage()
        if kind == "sqlite":
            return _open_sqlite(url, heartbeat)
        if kind in RDB_KINDS:
            return _open_server_rdb(url, heartbeat, pool_size)
        if kind == "journal-file":
            return open_journal_file(url)
        if kind == "journal-redis":
            return open_redis(url)
        return open_grpc(url)


class _ConcurrentSQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that waits for locks and uses the write-ahead log.

    Passed as ``connect_args["factory"]`` rather than a SQLAlchemy ``connect`` listener: the
    engine is created and first used inside ``RDBStorage.__init__`` (a listener attached after it
    would miss that first connection) and is rebuilt when a storage is unpickled in a spawned
    worker (a listener would be lost there; the factory travels with ``engine_kwargs``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute(f"PRAGMA busy_timeout = {int(_SQLITE_BUSY_TIMEOUT_S * 1000)}")
        # WAL lets readers proceed during a write; the mode is stored in the file, so this is a
        # no-op after the first connection.
        self.execute("PRAGMA journal_mode = WAL")
        # with WAL, NORMAL loses no committed transaction when a process dies (only on power
        # loss) and saves an fsync per commit: workers commit after every evaluation
        self.execute("PRAGMA synchronous = NORMAL")


def _heartbeat_kwargs(
    interval: int | None, grace_period: int | None, max_retry: int
) -> dict[str, Any]:
    if interval is None:
        return {}
    if interval <= 0 or (grace_period is not None and grace_period <= 0):
        raise ValueError("heartbeat_interval and grace_period must be positive seconds")
    return {
        "heartbeat_interval": interval,
        "grace_period": grace_period,
        "heartbeat_stale_trial_callback": RetryStaleTrial(max_retry=max_retry),
    }


def _open_sqlite(url: str, heartbeat: Mapping[str, Any]) -> optuna.storages.RDBStorage:
    check_folder(url)  # SQLite would create the file, never its folder: one line, not a traceback
    engine_kwargs = {
        "connect_args": {"timeout": _SQLITE_BUSY_TIMEOUT_S, "factory": _ConcurrentSQLiteConnection}
    }
    return _rdb_storage(url, url, engine_kwargs, heartbeat)


def _open_server_rdb(
    url: str, heartbeat: Mapping[str, Any], pool_size: int
) -> optuna.storages.RDBStorage:
    engine_url, connect_args = _server_engine_url(url)
    engine_kwargs = {
        "pool_size": pool_size,
        "max_overflow": _MAX_OVERFLOW,
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        "connect_args": connect_args,
    }
    return _rdb_storage(engine_url, url, engine_kwargs, heartbeat)


def _server_engine_url(url: str) -> tuple[str, dict[str, Any]]:
    """The URL SQLAlchemy connects to (psycopg 3 for PostgreSQL) and its connect arguments."""
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise UserError(f"--storage {mask_url(url)}: not a database URL: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    _check_driver(parsed, url)
    connect_args = (
        {} if "connect_timeout" in parsed.query else {"connect_timeout": _CONNECT_TIMEOUT_S}
    )
    return parsed.render_as_string(hide_password=False), connect_args


def check_storage(url: str) -> None:
    """Reach the storage a URL names without writing to it: a database server answers, a journal
    file is a journal. Run first, so that a bad URL is one line in seconds, before the data is
    read; SQLite and journal files are created later, when there is something to write."""
    kind = storage_kind(url.strip())
    if kind in ("postgresql", "mysql"):
        engine_url, connect_args = _server_engine_url(url.strip())
        engine = sqlalchemy.create_engine(
            engine_url, poolclass=sqlalchemy.pool.NullPool, connect_args=connect_args
        )
        try:
            with engine.connect():
                pass
        except sqlalchemy.exc.DBAPIError as exc:
            raise _cannot_connect(url, exc.orig if exc.orig is not None else exc) from None
        finally:
            engine.dispose()
    elif kind in ("sqlite", "journal-file"):
        check_folder(url)
        if kind == "journal-file":
            check_journal(url, _journal_path(url.strip()))
    elif kind in ("journal-redis", "grpc"):
        open_storage(url)  # connects and pings; writes nothing


def _check_driver(parsed: URL, url: str) -> None:
    """Import the DBAPI module now, so a missing one is a one-line message, not a traceback."""
    try:
        parsed.get_dialect().import_dbapi()
    except sqlalchemy.exc.NoSuchModuleError:
        raise UserError(
            f"--storage {mask_url(url)}: unknown database driver {parsed.drivername!r}"
        ) from None
    except ImportError as exc:
        module = (exc.name or parsed.drivername).split(".")[0]
        package = _DRIVER_PACKAGES.get(module, module)
        raise UserError(
            f"--storage {mask_url(url)}: the database driver is not installed "
            f"(no module {module!r}); pip install {package}"
        ) from None


def _rdb_storage(
    engine_url: str, url: str, engine_kwargs: dict[str, Any], heartbeat: Mapping[str, Any]
) -> optuna.storages.RDBStorage:
    """``engine_url`` is what SQLAlchemy connects to; ``url`` is what the user wrote (messages)."""
    # RDBStorage runs str.format on the URL (a schema-version template); keep braces literal.
    template = engine_url.replace("{", "{{").replace("}", "}}")
    try:
        with schema_lock(engine_url, engine_kwargs.get("connect_args", {})):
            return RetryingRDBStorage(
                template, display_url=mask_url(url), engine_kwargs=engine_kwargs, **heartbeat
            )
    except sqlalchemy.exc.DBAPIError as exc:
        cause = exc.orig if exc.orig is not None else exc
        action = "cannot open" if engine_url.startswith("sqlite") else "cannot connect"
        raise _cannot_connect(url, cause, action) from None

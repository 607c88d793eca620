"""Mutual exclusion between processes that share a storage, for what Optuna does not make atomic.

Optuna creates its schema, a study, and a trial each in a step of its own, so launchers started
together race: two create the same tables, one sees a study before its metadata is written, two
count the same free slot. Each storage kind has a lock that every process can reach through the
storage itself:

- PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) on a connection of its own;
- MySQL: ``GET_LOCK``;
- SQLite and journal files: ``flock`` on a ``.study-lock`` file beside the database (a lock on
  the database file itself would interfere with SQLite's own POSIX locks, and ``.lock`` is the
  journal's own symlink lock);
- Redis: redis-py's lock, which expires if its holder dies;
- in-memory: a process-wide lock;
- gRPC proxy: the lock service that ``search.proxy`` serves beside the storage
  (:mod:`storage._grpc_lock`); a stock Optuna proxy has none, and its clients run unlocked.

Locks are held for milliseconds (a count and a trial's creation), never while a trial runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy import text

from storage._optuna import grpc_address, journal_backend, journal_file_path, redis_lock, unwrap

_REDIS_LOCK_EXPIRY_S = 120
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory-lock keys are bigints)."""
    digest = hashlib.sha256(f"re-search:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file(database: str | Path) -> Path:
    """The lock file beside a SQLite database or journal file."""
    path = Path(database)
    return path.with_name(path.name + ".study-lock")


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing); released on exit or death."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


@contextlib.contextmanager
def engine_lock(engine: sqlalchemy.Engine, name: str) -> Iterator[None]:
    """An advisory lock on a PostgreSQL or MySQL server; a file lock for SQLite."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            with memory_lock(str(engine.url)):
                yield
            return
        with file_lock(lock_file(database)):
            yield
        return
    if dialect == "postgresql":
        acquire, release = "SELECT pg_advisory_lock(:k)", "SELECT pg_advisory_unlock(:k)"
        params = {"k": lock_key(name)}
    elif dialect == "mysql":
        acquire, release = "SELECT GET_LOCK(:k, -1)", "SELECT RELEASE_LOCK(:k)"
        params = {"k": f"re-search-{lock_key(name) & 0xFFFFFFFFFFFF:x}"}
    else:
        raise ValueError(f"no lock for the {dialect} dialect")
    with engine.connect() as connection:
        connection.execute(text(acquire), params)
        connection.commit()
        try:
            yield
        finally:
            # the lock belongs to the session: a connection lost meanwhile took it with it
            with contextlib.suppress(sqlalchemy.exc.DBAPIError):
                connection.execute(text(release), params)
                connection.commit()


@contextlib.contextmanager
def memory_lock(name: str) -> Iterator[None]:
    with _memory_guard:
        lock = _memory_locks.setdefault(name, threading.Lock())
    with lock:
        yield


def storage_lock(
    storage: optuna.storages.BaseStorage, name: str
) -> contextlib.AbstractContextManager:
    """The lock named ``name`` that every process sharing ``storage`` sees (see the module doc).

    ``storage`` may be what a study holds: Optuna wraps a relational storage in a cache.
    """
    storage = unwrap(storage)
    if isinstance(storage, optuna.storages.RDBStorage):
        return engine_lock(storage.engine, name)
    if isinstance(storage, optuna.storages.JournalStorage):
        backend = journal_backend(storage)
        if isinstance(backend, optuna.storages.journal.JournalFileBackend):
            return file_lock(lock_file(journal_file_path(backend)))
        if isinstance(backend, optuna.storages.journal.JournalRedisBackend):
            return redis_lock(backend, name, timeout=_REDIS_LOCK_EXPIRY_S)
    if isinstance(storage, optuna.storages.InMemoryStorage):
        return memory_lock(f"{id(storage)}:{name}")
    if isinstance(storage, optuna.storages.GrpcStorageProxy):
        from storage._grpc_lock import grpc_lock  # grpc: only where a proxy is used

        return grpc_lock(*grpc_address(storage), name)
    return contextlib.nullcontext()


@contextlib.contextmanager
def schema_lock(engine_url: str, connect_args: dict) -> Iterator[None]:
    """Held while a storage is opened, so that processes started together on a fresh database do
    not create Optuna's tables twice (a duplicate-key or already-exists error for all but one)."""
    engine = sqlalchemy.create_engine(
        engine_url, poolclass=sqlalchemy.pool.NullPool, connect_args=connect_args
    )
    try:
        with engine_lock(engine, "schema"):
            yield
    finally:
        engine.dispose()

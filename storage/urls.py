"""Storage URLs: the one place where a URL string becomes an Optuna storage.

The URL is the only thing search workers share, so every worker calls :func:`open_storage` with
the same string and gets an equivalent storage. Supported forms:

- ``sqlite:///relative.db`` / ``sqlite:////absolute.db``: WAL journal and a busy timeout on every
  connection, so several worker processes can write to one file.
- ``postgresql://USER:PASSWORD@HOST:PORT/DB`` (or ``postgres://``): psycopg 3, a small connection
  pool per worker, pre-ping, and calls retried while the server is away (:mod:`storage.retry`),
  so a restarted server is survived.
- ``mysql://...`` (any SQLAlchemy MySQL driver that is installed).
- ``journal:///relative.log`` / ``journal:////absolute.log``: an append-only journal file (an
  existing file must be a journal: other files are refused, not written to).
- ``redis://HOST:PORT/DB[?prefix=NAME]``: a journal kept in Redis under the key prefix ``NAME``.
- ``grpc://HOST:PORT``: a client of ``optuna.storages.run_grpc_proxy_server``.
- ``memory:`` / ``inmemory``: a per-process in-memory storage (tests only).

Heartbeats (a trial whose worker died is failed and re-enqueued with the same parameters) exist
only for the relational storages: Optuna's journal and gRPC storages have no heartbeat, so a
stale trial there stays RUNNING until something else fails it.

Passwords never leave this module: every message is built from :func:`mask_url`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import optuna
import sqlalchemy.exc
from sqlalchemy.engine import URL, make_url

from common.cli import UserError
from storage.liveness import RetryStaleTrial
from storage.locks import schema_lock
from storage.retry import RetryingRDBStorage

DEFAULT_STORAGE_FILE = "searches.db"
RDB_KINDS = frozenset({"sqlite", "postgresql", "mysql"})

_CONNECT_TIMEOUT_S = 5
_SQLITE_BUSY_TIMEOUT_S = 60.0
# Optuna's heartbeat thread holds a second connection while a trial runs, so a worker needs
# `pool_size` connections; the overflow only absorbs short bursts.
_MAX_OVERFLOW = 2
_SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "journal": "journal-file",
    "redis": "journal-redis",
    "rediss": "journal-redis",
    "grpc": "grpc",
}
_MEMORY_NAMES = frozenset({"memory", "memory:", "memory://", "inmemory", "inmemory:"})
_JOURNAL_SUFFIXES = (".log", ".jsonl")
_PASSWORD_QUERY_KEYS = frozenset({"password", "passwd", "pwd"})
# Import name of a database driver -> what to pip install.
_DRIVER_PACKAGES = {
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysql": "mysql-connector-python",
    "mariadb": "mariadb",
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "redis": "redis",
    "grpc": "grpcio",
    "google": "protobuf",
}
_USAGE = (
    "use sqlite:///FILE.db, postgresql://USER@HOST:PORT/DB, mysql://USER@HOST/DB, "
    "journal:///FILE.log, redis://HOST:PORT/DB, grpc://HOST:PORT or memory:"
)


def mask_url(url: str) -> str:
    """Return ``url`` with any password (in the authority or the query) replaced by ``***``."""
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        # Not a URL SQLAlchemy understands: mask anything that looks like user:password@.
        return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1***@", url)
    secret_keys = [key for key in parsed.query if key.lower() in _PASSWORD_QUERY_KEYS]
    if parsed.password is None and not secret_keys:
        return url
    query = {key: ("***" if key in secret_keys else value) for key, value in parsed.query.items()}
    masked = parsed.set(query=query).render_as_string(hide_password=True)
    return masked.replace("%2A%2A%2A", "***")


def storage_kind(url: str) -> str:
    """Name the storage a URL selects.

    Returns one of ``sqlite``, ``postgresql``, ``mysql``, ``journal-file``, ``journal-redis``,
    ``grpc`` or ``memory``; raises :class:`UserError` for anything else.
    """
    text = url.strip()
    if not text:
        raise UserError(f"--storage: empty; {_USAGE}")
    if text.lower() in _MEMORY_NAMES:
        return "memory"
    if "://" not in text:
        if text.endswith(_JOURNAL_SUFFIXES):  # a file the user may have meant as a journal
            raise UserError(
                f"--storage {mask_url(text)}: no scheme; for a journal file write journal:///{text}"
            )
        raise UserError(f"--storage {mask_url(text)}: no scheme; {_USAGE}")
    scheme = text.split("://", 1)[0].lower()
    base, _, driver = scheme.partition("+")
    kind = _SCHEMES.get(base)
    if kind is None or (driver and kind not in RDB_KINDS):
        raise UserError(f"--storage: unknown scheme {scheme!r}; {_USAGE}")
    return kind


def supports_heartbeat(url: str) -> bool:
    """Whether stale trials of dead workers are failed and retried by Optuna's heartbeat."""
    return storage_kind(url) in RDB_KINDS


def default_storage_url(directory: str | Path = ".") -> str:
    """The embedded default: ``sqlite:///searches.db`` in ``directory`` (the working directory)."""
    return f"sqlite:///{(Path(directory) / DEFAULT_STORAGE_FILE).as_posix()}"


def artifact_dir_for(url: str) -> Path:
    """Where a storage's artifacts go by default.

    Next to a SQLite or journal file as ``<stem>-artifacts/``; ``./artifacts`` for servers and
    in-memory storages.
    """
    kind = storage_kind(url)
    path = None
    if kind == "sqlite":
        path = _sqlite_path(url)
    elif kind == "journal-file":
        path = _journal_path(url)
    if path is None:
        return Path("artifacts")
    return path.parent / f"{path.stem}-artifacts"


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
            return _open_journal_file(url)
        if kind == "journal-redis":
            return _open_redis(url)
        return _open_grpc(url)


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


def _sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _journal_path(url: str) -> Path:
    """``journal:///rel.log`` -> ``rel.log``; ``journal:////abs.log`` -> ``/abs.log``."""
    if "://" not in url:
        return Path(url)
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or len(rest) < 2:
        raise UserError(
            f"--storage {mask_url(url)}: a journal URL is journal:///FILE.log "
            "(three slashes; four for an absolute path)"
        )
    return Path(rest[1:])


def _open_sqlite(url: str, heartbeat: Mapping[str, Any]) -> optuna.storages.RDBStorage:
    path = _sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"--storage {mask_url(url)}: cannot create {path.parent}: {exc.strerror}"
            ) from None
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
    elif kind == "journal-file":
        _check_journal(url, _journal_path(url.strip()))
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


def _open_journal_file(url: str) -> optuna.storages.JournalStorage:
    path = _journal_path(url)
    _check_journal(url, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend)
    except OSError as exc:
        raise UserError(
            f"--storage {mask_url(url)}: cannot open {path}: {exc.strerror or exc}"
        ) from None
    except ValueError as exc:
        raise UserError(
            f"--storage {mask_url(url)}: {path} is not an Optuna journal: {exc}"
        ) from None


def _check_journal(url: str, path: Path) -> None:
    """Refuse, before writing to it, a non-empty file whose first line is not a journal record
    (Optuna would append a study to the user's notes and then fail to read them)."""
    try:
        with path.open("rb") as f:
            first = f.readline(1 << 20)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UserError(f"--storage {mask_url(url)}: cannot read {path}: {exc.strerror}") from None
    if not first.strip():
        return
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not isinstance(record, dict) or "op_code" not in record:
        raise UserError(
            f"--storage {mask_url(url)}: {path} is not an Optuna journal (its first line is not "
            "a journal record); nothing was written to it; give a new or a journal file"
        )


def _open_redis(url: str) -> optuna.storages.JournalStorage:
    if _module_missing("redis"):
        raise UserError(
            f"--storage {mask_url(url)}: Redis needs the redis package; pip install redis"
        )
    import redis.exceptions

    redis_url, prefix = _split_redis_prefix(url)
    try:
        backend = optuna.storages.journal.JournalRedisBackend(redis_url, prefix=prefix)
        return optuna.storages.JournalStorage(backend)
    except (redis.exceptions.RedisError, ValueError) as exc:
        raise _cannot_connect(url, exc) from None


def _split_redis_prefix(url: str) -> tuple[str, str]:
    """Take our ``prefix`` query key out of a Redis URL (redis-py rejects unknown keys) and add a
    connect timeout so an unreachable server fails fast."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for key, value in reversed(query) if key == "prefix"), "")
    rest = [(key, value) for key, value in query if key != "prefix"]
    if not any(key == "socket_connect_timeout" for key, _ in rest):
        rest.append(("socket_connect_timeout", str(_CONNECT_TIMEOUT_S)))
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix


def _open_grpc(url: str) -> optuna.storages.BaseStorage:
    missing = [_DRIVER_PACKAGES[m] for m in ("grpc", "google") if _module_missing(m)]
    if missing:
        raise UserError(
            f"--storage {mask_url(url)}: the gRPC storage proxy needs {' and '.join(missing)}; "
            f"pip install {' '.join(missing)}"
        )
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise UserError(f"--storage {mask_url(url)}: a gRPC URL is grpc://HOST:PORT")
    proxy = optuna.storages.GrpcStorageProxy(host=parts.hostname, port=port)
    try:
        proxy.wait_server_ready(timeout=_CONNECT_TIMEOUT_S)
    except ConnectionError:
        proxy.close()
        raise UserError(
            f"--storage {mask_url(url)}: cannot connect: no gRPC storage proxy answered "
            f"within {_CONNECT_TIMEOUT_S} s"
        ) from None
    return proxy


def _module_missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def _cannot_connect(url: str, cause: BaseException, action: str = "cannot connect") -> UserError:
    """One line naming the masked URL and the driver's reason, with any password scrubbed."""
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = "; ".join(lines) or type(cause).__name__
    password = _password_of(url)
    if password:
        reason = reason.replace(password, "***")
    return UserError(f"--storage {mask_url(url)}: {action}: {reason}")


def _password_of(url: str) -> str | None:
    try:
        return make_url(url).password
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return None

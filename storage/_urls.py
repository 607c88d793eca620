"""Storage URLs: which storage a URL names, its masked form for messages, and the defaults
(:mod:`storage._opening` turns a URL into an Optuna storage). Supported forms:

- ``sqlite:///relative.db`` / ``sqlite:////absolute.db``: WAL journal and a busy timeout on every
  connection, so several worker processes can write to one file.
- ``postgresql://USER:PASSWORD@HOST:PORT/DB`` (or ``postgres://``): psycopg 3, a small connection
  pool per worker, pre-ping, and calls retried while the server is away (:mod:`storage._retry`),
  so a restarted server is survived.
- ``mysql://...`` (any SQLAlchemy MySQL driver that is installed).
- ``journal:///relative.log`` / ``journal:////absolute.log``: an append-only journal file (an
  existing file must be a journal: other files are refused, not written to).
- ``redis://HOST:PORT/DB[?prefix=NAME]``: a journal kept in Redis under the key prefix ``NAME``.
- ``grpc://HOST:PORT``: a client of ``optuna.storages.run_grpc_proxy_server``.
- ``memory:`` / ``inmemory``: a per-process in-memory storage (tests only).

For both file storages the path is what follows ``scheme:///``: three slashes and a relative path
(relative to the working directory), or three slashes and an absolute path, which makes four
(``journal:////srv/x.log`` is ``/srv/x.log``; ``journal:///srv/x.log`` is ``./srv/x.log``). The
file's folder must exist: it is never created, so a mistyped path is an error, not a new study.

Heartbeats (a trial whose worker died is failed and re-enqueued with the same parameters) exist
only for the relational storages: Optuna's journal and gRPC storages have no heartbeat, so a
stale trial there stays RUNNING until something else fails it.

Passwords never leave this module: every message is built from :func:`mask_url`.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import sqlalchemy.exc
from sqlalchemy.engine import make_url

from common._cli import UserError

DEFAULT_STORAGE_FILE = "searches.db"
RDB_KINDS = frozenset({"sqlite", "postgresql", "mysql"})

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
_CONNECT_TIMEOUT_S = 5
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
    "journal:///FILE.log, redis://HOST:PORT/DB, grpc://HOST:PORT or memory: "
    "(FILE relative to the working directory; /ABS/FILE makes four slashes)"
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
    path = local_file(url)
    if path is None:
        return Path("artifacts")
    return path.parent / f"{path.stem}-artifacts"


def local_file(url: str) -> Path | None:
    """The file a SQLite database or journal file storage lives in; None for servers and
    in-memory storages."""
    kind = storage_kind(url)
    if kind == "sqlite":
        return _sqlite_path(url)
    if kind == "journal-file":
        return _journal_path(url)
    return None


def file_storage_text(url: str) -> str:
    """The URL for messages (password masked), with the absolute path of a SQLite or journal
    file beside it: ``sqlite:///x.db (/home/me/x.db)``."""
    path = local_file(url.strip())
    shown = mask_url(url.strip())
    return shown if path is None else f"{shown} ({path.absolute()})"


def check_folder(url: str) -> None:
    """A SQLite or journal file must be in a folder that exists (see the module doc): raise a
    :class:`UserError` naming the folder, and the four-slash form where three were perhaps
    meant as an absolute path."""
    path = local_file(url.strip())
    if path is None or path.parent.is_dir():
        return
    folder = path.parent.absolute()
    hint = ""
    if not path.is_absolute():
        scheme = url.strip().split("://", 1)[0]
        hint = f" (a relative path; an absolute one takes four slashes: {scheme}:////{path})"
    raise UserError(
        f"--storage {mask_url(url.strip())}: the folder {folder} does not exist{hint}; "
        "create it first"
    )


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


def _module_missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True

"""The storages Optuna keeps as journals: an append-only file, Redis under a key prefix, and
the gRPC proxy's client (which serves a relational database held elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import optuna

from common._cli import UserError
from storage._urls import (
    _CONNECT_TIMEOUT_S,
    _DRIVER_PACKAGES,
    _cannot_connect,
    _journal_path,
    _module_missing,
    check_folder,
    mask_url,
)


def open_journal_file(url: str) -> optuna.storages.JournalStorage:
    path = _journal_path(url)
    check_folder(url)
    check_journal(url, path)
    try:
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


def check_journal(url: str, path: Path) -> None:
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


def open_redis(url: str) -> optuna.storages.JournalStorage:
    if _module_missing("redis"):
        raise UserError(
            f"--storage {mask_url(url)}: Redis needs the redis package; pip install redis"
        )
    import redis.exceptions

    redis_url, prefix = split_redis_prefix(url)
    try:
        backend = optuna.storages.journal.JournalRedisBackend(redis_url, prefix=prefix)
        return optuna.storages.JournalStorage(backend)
    except (redis.exceptions.RedisError, ValueError) as exc:
        raise _cannot_connect(url, exc) from None


def split_redis_prefix(url: str) -> tuple[str, str]:
    """Take our ``prefix`` query key out of a Redis URL (redis-py rejects unknown keys) and add a
    connect timeout so an unreachable server fails fast."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for key, value in reversed(query) if key == "prefix"), "")
    rest = [(key, value) for key, value in query if key != "prefix"]
    if not any(key == "socket_connect_timeout" for key, _ in rest):
        rest.append(("socket_connect_timeout", str(_CONNECT_TIMEOUT_S)))
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix


def open_grpc(url: str) -> optuna.storages.BaseStorage:
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
    from storage._grpc_client import RetryingGrpcStorageProxy  # grpc: checked above

    proxy = RetryingGrpcStorageProxy(host=parts.hostname, port=port, display_url=mask_url(url))
    try:
        proxy.wait_server_ready(timeout=_CONNECT_TIMEOUT_S)
    except ConnectionError:
        proxy.close()
        raise UserError(
            f"--storage {mask_url(url)}: cannot connect: no gRPC storage proxy answered "
            f"within {_CONNECT_TIMEOUT_S} s"
        ) from None
    return proxy

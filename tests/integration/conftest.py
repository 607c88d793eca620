"""Real database servers for integration tests: a fresh Postgres database and a fresh Redis prefix.

Servers are found at ``RE_SEARCH_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/
postgres``, a maintenance database the fixture may create databases from) and
``RE_SEARCH_TEST_REDIS`` (default ``redis://127.0.0.1:6379/0``). A missing server skips the test
with the reason, except in CI (``CI=true``), where it fails: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from storage.urls import mask_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def server_missing(reason: str) -> None:
    """Skip locally; fail in CI, where every integration test must really run."""
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI is set: a missing server is a failure, not a skip)")
    pytest.skip(reason)


def _libpq_url(url: str) -> str:
    """The same URL without a SQLAlchemy driver suffix, as psycopg.connect expects it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class _Admin:
    """An autocommit psycopg connection to the maintenance database, opened again when a test
    restarted the server under it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection = None

    def connection(self):
        import psycopg

        if self._connection is not None:
            try:
                self._connection.execute("SELECT 1")
            except psycopg.Error:
                self._connection.close()
                self._connection = None
        if self._connection is None:
            self._connection = psycopg.connect(
                _libpq_url(self.url), autocommit=True, connect_timeout=3
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[_Admin]:
    psycopg = pytest.importorskip("psycopg")
    admin = _Admin(os.environ.get("RE_SEARCH_TEST_POSTGRES", DEFAULT_POSTGRES))
    reason = ""
    try:
        admin.connection()
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    if reason:  # reported outside the except block: no chained driver traceback
        server_missing(f"no PostgreSQL at {mask_url(admin.url)}: {reason}")
    try:
        yield admin
    finally:
        admin.close()


@pytest.fixture
def postgres_admin(_postgres_server: _Admin) -> object:
    """An autocommit psycopg connection to the maintenance database (create, drop, inspect)."""
    return _postgres_server.connection()


@pytest.fixture(scope="session")
def postgres_url(_postgres_server: _Admin) -> Iterator[str]:
    """URL of a fresh database ``re_search_test_<random>``, dropped (with FORCE) afterwards."""
    from psycopg import sql

    name = f"re_search_test_{secrets.token_hex(4)}"
    _postgres_server.connection().execute(
        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    )
    try:
        yield (
            make_url(_libpq_url(_postgres_server.url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        _postgres_server.connection().execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis storage URL with a fresh key prefix; every key under it is deleted afterwards."""
    redis = pytest.importorskip("redis")
    base = os.environ.get("RE_SEARCH_TEST_REDIS", DEFAULT_REDIS)
    client = redis.Redis.from_url(base, socket_connect_timeout=3)
    reason = ""
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        reason = str(exc) or type(exc).__name__
    if reason:
        server_missing(f"no Redis at {mask_url(base)}: {reason}")
    prefix = f"re_search_test_{secrets.token_hex(4)}"
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}prefix={prefix}"
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def fresh_postgres_url(_postgres_server: _Admin) -> Iterator[str]:
    """URL of a database created for this one test (no Optuna schema yet), dropped afterwards."""
    from psycopg import sql

    name = f"re_search_fresh_{secrets.token_hex(4)}"
    admin = _postgres_server.connection()
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield (
            make_url(_libpq_url(_postgres_server.url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        _postgres_server.connection().execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

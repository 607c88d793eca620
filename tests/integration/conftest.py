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


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[object]:
    """An autocommit psycopg connection to the maintenance database (create, drop, inspect)."""
    psycopg = pytest.importorskip("psycopg")
    url = os.environ.get("RE_SEARCH_TEST_POSTGRES", DEFAULT_POSTGRES)
    connection, reason = None, ""
    try:
        connection = psycopg.connect(_libpq_url(url), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    if connection is None:  # reported outside the except block: no chained driver traceback
        server_missing(f"no PostgreSQL at {mask_url(url)}: {reason}")
    with connection:
        yield connection


@pytest.fixture(scope="session")
def postgres_url(postgres_admin) -> Iterator[str]:
    """URL of a fresh database ``re_search_test_<random>``, dropped (with FORCE) afterwards."""
    from psycopg import sql

    name = f"re_search_test_{secrets.token_hex(4)}"
    postgres_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = os.environ.get("RE_SEARCH_TEST_POSTGRES", DEFAULT_POSTGRES)
    try:
        yield make_url(_libpq_url(base)).set(database=name).render_as_string(hide_password=False)
    finally:
        postgres_admin.execute(
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

"""Real servers for integration tests: a fresh Postgres database, a fresh Redis prefix, and an
S3-compatible server (moto's, from the dev extras) that the fixtures start themselves.

Database servers are found at ``RE_SEARCH_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``, a maintenance database the fixture may
create databases from) and
``RE_SEARCH_TEST_REDIS`` (default ``redis://127.0.0.1:6379/0``). A missing server skips the test
with the reason, except in CI (``CI=true``), where it fails: CI must never pass by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage._urls import mask_url

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


class S3Server:
    """moto's standalone S3-compatible server on 127.0.0.1, as a separate process that a test
    can stop and start again on the same port (it comes back empty, as a wiped server would)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, wait_s: float = 60.0) -> None:
        with open(self.log, "a", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"moto server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.endpoint, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        pytest.fail(f"moto server did not answer on {self.endpoint} in {wait_s} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def environment(self) -> dict[str, str]:
        """What a client of this server needs: the standard AWS variables."""
        return {
            "AWS_ACCESS_KEY_ID": "re-search-test",
            "AWS_SECRET_ACCESS_KEY": "re-search-test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def client(self):
        import boto3

        env = self.environment()
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def make_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_s3_server(log: Path) -> S3Server:
    """A started :class:`S3Server`; a missing ``moto[server]`` skips (fails in CI)."""
    for module in ("moto", "flask", "boto3"):
        if importlib.util.find_spec(module) is None:
            server_missing(f"no {module}: install the dev extras (scripts/setup.sh dev)")
    server = S3Server(log)
    server.start()
    return server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """One S3-compatible server for the session (tests use their own buckets)."""
    server = start_s3_server(tmp_path_factory.mktemp("s3") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


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

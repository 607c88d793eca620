"""A throwaway PostgreSQL cluster on a port of its own, for tests and benchmarks that stop and
start the server (a shared server stays up): the service's fault tests and ``bench/outage.py`` use
it, and so can a user's own. Needs PostgreSQL's ``initdb`` and ``pg_ctl``; as root the cluster
runs as the ``postgres`` user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _tool(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """``with Cluster() as pg:`` a fresh cluster; ``pg.url``, ``pg.stop()``, ``pg.start()``."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _tool("initdb"), _tool("pg_ctl")
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.dir = Path(tempfile.mkdtemp(prefix="re-search-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            os.chown(self.dir, pwd.getpwnam("postgres").pw_uid, -1)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def __enter__(self) -> Cluster:
        data = str(self.dir / "data")
        self._run(self.initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.dir / "data"), str(self.dir / "server.log")
        self._run(self.pg_ctl, "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or a lost network would: clients see their connections die."""
        self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(self.dir, ignore_errors=True)

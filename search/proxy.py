"""``python -m search.proxy --storage URL``: Optuna's gRPC storage proxy in front of a database.

Many workers (``search.run --storage grpc://HOST:PORT``) then share the proxy's few database
connections instead of opening a pool each. The proxy serves a relational database (SQLite,
Postgres, MySQL): Optuna's proxy does not support journal storages. On the same port it serves
the study lock its clients share (:mod:`storage._grpc_lock`): creating a study and starting a
trial are serialised as on a database. Restarting it drops the locks, which are held for
milliseconds; its clients wait for it as for a restarted database (:mod:`storage._grpc_client`),
and the restarted proxy takes its port back.
"""

from __future__ import annotations

import errno
import signal
import socket
import sys
import warnings

import optuna

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from storage._opening import open_storage
from storage._optuna import grpc_server
from storage._urls import RDB_KINDS, mask_url, storage_kind

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 13000


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.proxy",
        description="Serve a study database to many workers through Optuna's gRPC storage proxy.",
    )
    p.add_argument("--storage", required=True, help="sqlite:///FILE, postgresql://... or mysql://")
    p.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (0.0.0.0: all)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    p.add_argument("--pool-size", type=int, default=4, help="database connections of the proxy")
    return p


def check_port_free(host: str, port: int) -> None:
    """Bind once without SO_REUSEPORT: gRPC sets it, so it would share a port already in use.
    With SO_REUSEADDR, as gRPC's own socket: the connections of a proxy that was just killed
    (TIME_WAIT) do not keep its successor off the port; a live listener still does."""
    if not 0 < port < 65536:
        raise UserError(f"--port: {port} is not a port number (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"--port {port}: already in use on {host}") from None
        raise UserError(f"--host {host} --port {port}: cannot listen: {exc.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pool_size < 1:
        raise UserError(f"--pool-size: must be at least 1, got {args.pool_size}")
    kind = storage_kind(args.storage)
    if kind not in RDB_KINDS:
        raise UserError(
            f"--storage {mask_url(args.storage)}: the gRPC proxy serves sqlite, postgresql or "
            f"mysql, not {kind}"
        )
    check_port_free(args.host, args.port)
    quiet_libraries()
    storage = open_storage(args.storage, heartbeat_interval=None, pool_size=args.pool_size)
    signal.signal(signal.SIGTERM, _stop)
    print(
        f"search.proxy: serving {mask_url(args.storage)} on grpc://{args.host}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        from storage._grpc_lock import LockTable, lock_handler

        server = grpc_server(storage, args.host, args.port)
    server.add_generic_rpc_handlers((lock_handler(LockTable()),))
    server.start()
    try:
        server.wait_for_termination()
    except _Stopped:
        server.stop(grace=None)
        return 128 + signal.SIGTERM
    return 0


class _Stopped(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


if __name__ == "__main__":
    run_main(main)

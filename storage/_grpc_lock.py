"""The study lock of ``grpc://`` storages: a small lock service beside Optuna's storage proxy.

Optuna's gRPC proxy forwards storage calls, and none of them is a compare-and-set on every
database behind it (Optuna claims a waiting trial by reading its state and then writing it:
atomic with Postgres's ``FOR UPDATE``, not on SQLite), so ``search.proxy`` serves one more
service on the same port: named locks with an owner and a lease. Every client of that proxy
reaches it through the proxy's own address, so launchers and workers anywhere are serialised as
they are on a database.

- ``TryAcquire`` grants a free (or expired) lock to a holder for :data:`LEASE_S` seconds and
  answers at once; a client polls with a short back-off, so no server thread waits for a lock
  (the storage calls share the server's thread pool).
- ``Release`` frees the lock if the holder still owns it. A holder that dies loses the lock when
  its lease runs out; locks are held for milliseconds to seconds (a count and a trial's creation,
  a study's creation), never while a trial runs.

A stock ``optuna`` proxy has no such service: the client then warns once and runs unlocked.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import grpc

from common._cli import UserError
from storage._waits import RETRY_FOR_S, retry_window

LEASE_S = 120.0
# how long a call waits for a proxy that is away (restarting), unless RE_SEARCH_STORAGE_RETRY_S
# says otherwise: the window the storage calls of the same clients wait (storage._waits)
WAIT_S = RETRY_FOR_S
# milliseconds: gRPC's defaults (1 s growing by 1.6x to 120 s) would leave a client waiting
# minutes after a proxy that was away for seconds
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", -1),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
)
SERVICE = "re_search.StudyLock"
_FIRST_POLL_S = 0.005
_MAX_POLL_S = 0.1
_CALL_TIMEOUT_S = 30.0
_logger = logging.getLogger(__name__)


class LockTable:
    """The server's locks: name -> (holder, lease end on the server's monotonic clock)."""

    def __init__(self, lease_s: float = LEASE_S) -> None:
        self.lease_s = lease_s
        self._held: dict[str, tuple[str, float]] = {}
        self._guard = threading.Lock()

    def try_acquire(self, name: str, holder: str) -> bool:
        now = time.monotonic()
        with self._guard:
            current = self._held.get(name)
            if current is not None and current[0] != holder and current[1] > now:
                return False
            self._held[name] = (holder, now + self.lease_s)
            return True

    def release(self, name: str, holder: str) -> bool:
        with self._guard:
            current = self._held.get(name)
            if current is None or current[0] != holder:
                return False
            del self._held[name]
            return True


def lock_handler(table: LockTable) -> grpc.GenericRpcHandler:
    """The lock service, for ``server.add_generic_rpc_handlers``. Messages are JSON objects."""

    def unary(method: Any) -> grpc.RpcMethodHandler:
        def handle(request: dict, context: grpc.ServicerContext) -> dict:
            return {"ok": method(str(request["name"]), str(request["holder"]))}

        return grpc.unary_unary_rpc_method_handler(
            handle, request_deserializer=json.loads, response_serializer=_dumps
        )

    return grpc.method_handlers_generic_handler(
        SERVICE, {"TryAcquire": unary(table.try_acquire), "Release": unary(table.release)}
    )


def _dumps(message: dict) -> bytes:
    return json.dumps(message).encode()


_channels: dict[tuple[str, int, int], grpc.Channel] = {}  # per process: forks get their own
_channels_guard = threading.Lock()
_warned: set[tuple[str, int]] = set()


def channel(host: str, port: int) -> grpc.Channel:
    """A channel to the proxy that reconnects within a second of its return."""
    return grpc.insecure_channel(f"{host}:{port}", options=list(CHANNEL_OPTIONS))


def _channel(host: str, port: int) -> grpc.Channel:
    with _channels_guard:
        key = (host, port, os.getpid())
        if key not in _channels:
            _channels[key] = channel(host, port)
        return _channels[key]


@contextlib.contextmanager
def grpc_lock(host: str, port: int, name: str) -> Iterator[None]:
    """Hold the lock ``name`` of the proxy at ``host:port`` (see the module doc)."""
    channel = _channel(host, port)
    acquire = channel.unary_unary(
        f"/{SERVICE}/TryAcquire", request_serializer=_dumps, response_deserializer=json.loads
    )
    release = channel.unary_unary(
        f"/{SERVICE}/Release", request_serializer=_dumps, response_deserializer=json.loads
    )
    request = {"name": name, "holder": f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4()}"}
    delay = _FIRST_POLL_S
    try:
        while not _call(acquire, request, f"grpc://{host}:{port}")["ok"]:
            time.sleep(delay)
            delay = min(2 * delay, _MAX_POLL_S)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise
        if (host, port) not in _warned:
            _warned.add((host, port))
            _logger.warning(
                "the gRPC proxy at %s:%s serves no study lock (start it with search.proxy): "
                "processes that start trials or create the study together are not serialised",
                host,
                port,
            )
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(grpc.RpcError):  # a restarted proxy holds no lock to release
            release(request, timeout=_CALL_TIMEOUT_S)


def _call(method: Any, request: dict, what: str) -> dict:
    """One lock call, waiting up to the storage's retry window (:data:`WAIT_S` unless set) for a
    proxy that is away (restarting)."""
    wait = retry_window()
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        try:
            return method(request, timeout=max(left, 0.1), wait_for_ready=True)
        except grpc.RpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.UNAVAILABLE and left > 0:
                time.sleep(0.2)  # the connection dropped mid-call: wait for the next one
                continue
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise UserError(
                    f"--storage {what}: the gRPC proxy did not answer for {wait:g} s"
                ) from None
            raise

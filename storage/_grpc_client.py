"""The client of a ``grpc://`` storage: Optuna's gRPC proxy client that waits out a proxy restart.

A proxy that is killed and started again (``search.proxy``) is away for seconds; every storage
call made meanwhile fails with ``UNAVAILABLE``. As for a database restart (:mod:`storage._retry`),
each call is tried again with backoff for up to ``retry_for`` seconds, then one line names the
proxy. The channel reconnects within a second of the proxy's return: gRPC's own reconnection
backoff grows to two minutes (:func:`storage._grpc_lock.channel`). Imported only where ``grpc``
is installed.
"""

from __future__ import annotations

import optuna

from storage._grpc_lock import channel
from storage._optuna import grpc_address, grpc_use_channel
from storage._retry import retry_methods
from storage._waits import retry_window

_NOT_RETRIED = frozenset({"close", "wait_server_ready", "remove_session"})


class RetryingGrpcStorageProxy(optuna.storages.GrpcStorageProxy):
    """Optuna's gRPC proxy client whose calls survive a proxy restart (see the module doc).

    ``display_url`` names the proxy in messages; ``retry_for`` is the longest wait in seconds
    before a call gives up with :class:`storage.StorageUnavailable`.
    """

    def __init__(
        self, *, host: str, port: int, display_url: str, retry_for: float | None = None
    ) -> None:
        self.display_url = display_url
        self.retry_for = retry_window() if retry_for is None else retry_for
        super().__init__(host=host, port=port)

    def _setup(self) -> None:
        """Optuna's set-up, with a channel that reconnects quickly (it is rebuilt on unpickling
        too, so a spawned process gets the same)."""
        grpc_use_channel(self, channel(*grpc_address(self)))


retry_methods(RetryingGrpcStorageProxy, optuna.storages.GrpcStorageProxy, _NOT_RETRIED)

"""Everything this project needs from Optuna that Optuna does not make public, in one place.

Optuna's public API has no way to name a trial's storage id or a study's storage, to write a
running trial's system attribute or a multi-objective trial's intermediate value, to run the
heartbeat thread that ``Study.optimize`` runs, to list a relational storage's stale trials, to
find the file, Redis client or address under a storage, or to serve a storage over gRPC. The
service needs each of them. Every such reach is a small function here, so an Optuna upgrade that
moves one breaks this module (and ``tests/storage/test_optuna_adapter.py``), not the code that
uses it; ``tests/test_architecture.py`` keeps every other module off Optuna's private names.

It lives in ``storage/`` because ``storage`` needs it too, and ``search`` may import ``storage``
but never the other way round.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

import optuna
from optuna._hypervolume import compute_hypervolume
from optuna.storages._heartbeat import BaseHeartbeat, get_heartbeat_thread
from optuna.storages._rdb import models as rdb_models
from optuna.storages._rdb.storage import _create_scoped_session as rdb_session
from optuna.trial import FrozenTrial

# re-exported for search.simulate and storage._retry
HYPERVOLUME = compute_hypervolume
RDB_MODELS = rdb_models
RDB_SESSION = rdb_session


# --- studies and trials ------------------------------------------------------------------------


def study_trials(study: optuna.Study, *args: Any, **kwargs: Any) -> list[FrozenTrial]:
    """``Study._get_trials``: what Optuna's samplers read a study's trials through (a study
    wrapper that changes what a sampler sees overrides it)."""
    return study._get_trials(*args, **kwargs)


def storage_of(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage a study reads and writes (Optuna's cache around a relational one)."""
    return study._storage


def study_id(study: optuna.Study) -> int:
    return study._study_id


def trial_id(trial: optuna.Trial | FrozenTrial) -> int:
    """A trial's id in its storage (unique across studies; not its number)."""
    return trial._trial_id


def frozen(trial: optuna.Trial | FrozenTrial) -> FrozenTrial:
    """A running trial's attributes as read at its start plus its own writes since, without a
    storage round trip; a frozen trial as it is."""
    return trial._cached_frozen_trial if isinstance(trial, optuna.Trial) else trial


def set_trial_system_attr(trial: optuna.Trial, key: str, value: Any) -> None:
    """Write a running trial's system attribute, and keep the trial's own copy in step."""
    trial.storage.set_trial_system_attr(trial._trial_id, key, value)
    trial._cached_frozen_trial.system_attrs[key] = value


def set_intermediate_value(study: optuna.Study, trial: optuna.Trial, step: int, value: float):
    """``Trial.report`` without its refusal of multi-objective studies (the storage takes it)."""
    study._storage.set_trial_intermediate_value(trial._trial_id, step, value)


# --- heartbeats --------------------------------------------------------------------------------


def has_heartbeat(storage: optuna.storages.BaseStorage) -> bool:
    """Whether Optuna keeps a heartbeat for the storage's running trials."""
    return isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval() is not None


def heartbeat(
    storage: optuna.storages.BaseStorage, trial_id: int
) -> contextlib.AbstractContextManager:
    """Optuna's heartbeat thread for a running trial, as ``Study.optimize`` runs it (a no-op
    where the storage has no heartbeat)."""
    return get_heartbeat_thread(trial_id, storage)


def stale_trial_ids(study: optuna.Study) -> list[int]:
    """The RUNNING trials whose heartbeat is older than the storage's grace period."""
    return study._storage._get_stale_trial_ids(study._study_id)


class StaleTrialHook:
    """Mixed into an ``RDBStorage``: :meth:`on_stale` sees the stale trials Optuna (or
    :func:`stale_trial_ids`) is about to fail, before it fails them."""

    def on_stale(self, trial_ids: list[int]) -> None:
        raise NotImplementedError

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)  # type: ignore[misc]
        stale += [t for t in _never_beaten(self, study_id) if t not in stale]
        self.on_stale(stale)
        return stale


def _never_beaten(storage: Any, study_id: int) -> list[int]:
    """RUNNING trials with no heartbeat row that started more than a grace period ago: their
    worker died (or lost the storage) before its first beat. Optuna looks only at trials with a
    heartbeat row, so these would stay RUNNING for good."""
    interval = storage.heartbeat_interval
    if interval is None:
        return []
    grace = storage.grace_period or 2 * interval
    # stored as naive UTC (Optuna 5's TrialModel)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    before = now - datetime.timedelta(seconds=grace)
    trial, beat = rdb_models.TrialModel, rdb_models.TrialHeartbeatModel
    with rdb_session(storage.scoped_session) as session:
        rows = (
            session.query(trial.trial_id)
            .outerjoin(beat, beat.trial_id == trial.trial_id)
            .filter(trial.study_id == study_id)
            .filter(trial.state == optuna.trial.TrialState.RUNNING)
            .filter(beat.trial_id.is_(None))
            .filter(trial._datetime_start_utc < before)
            .all()
        )
    return [row[0] for row in rows]


# --- what lies under a storage -----------------------------------------------------------------


def unwrap(storage: optuna.storages.BaseStorage) -> optuna.storages.BaseStorage:
    """The storage under Optuna's cache (a relational storage as a study holds it)."""
    if isinstance(storage, optuna.storages._CachedStorage):
        return storage._backend
    return storage


def journal_backend(storage: optuna.storages.JournalStorage) -> Any:
    return storage._backend


def journal_file_path(backend: optuna.storages.journal.JournalFileBackend) -> str:
    return backend._file_path


def redis_lock(backend: optuna.storages.journal.JournalRedisBackend, name: str, timeout: float):
    """A lock on the Redis server a journal lives on, under the journal's key prefix."""
    return backend._redis.lock(f"{backend._prefix}:re-search-lock:{name}", timeout=timeout)


def grpc_address(proxy: optuna.storages.GrpcStorageProxy) -> tuple[str, int]:
    return proxy._host, proxy._port


def grpc_use_channel(proxy: optuna.storages.GrpcStorageProxy, channel: Any) -> None:
    """Point Optuna's gRPC proxy client at ``channel``, with a stub and a trial cache of its own
    (what its ``_setup`` builds on a channel with gRPC's default options)."""
    from optuna.storages._grpc.auto_generated import api_pb2_grpc  # grpc: imported when used
    from optuna.storages._grpc.client import GrpcClientCache

    proxy._channel = channel
    proxy._stub = api_pb2_grpc.StorageServiceStub(channel)
    proxy._cache = GrpcClientCache(proxy._stub)


def grpc_server(storage: optuna.storages.BaseStorage, host: str, port: int) -> Any:
    """Optuna's gRPC storage server (not started), for ``search.proxy``."""
    from optuna.storages._grpc.server import make_server  # grpc: imported when it serves

    return make_server(optuna.storages.get_storage(storage), host, port)

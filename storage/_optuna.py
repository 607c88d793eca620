"""Everything this project needs from Optuna that Optuna does not make public, in one place.

Optuna's public API has no way to name a trial's storage id, a study's storage, a journal's file,
the heartbeat thread that ``Study.optimize`` runs, or the stale trials of a relational storage.
The service needs each (a worker runs its trials through ``ask``/``tell``, the reaper fails dead
workers' trials, locks live beside the storage). Every such reach is a small function here, so an
Optuna upgrade that moves one breaks this module and its tests, not the code that uses it.
It lives in ``storage/`` because ``storage`` needs it too and ``search`` may import ``storage``,
never the other way round.
"""

from __future__ import annotations

import contextlib
from typing import Any

import optuna
from optuna.storages._heartbeat import get_heartbeat_thread
from optuna.trial import FrozenTrial


def storage_of(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage a study reads and writes (Optuna's cache around a relational one)."""
    return study._storage


def study_id(study: optuna.Study) -> int:
    return study._study_id


def trial_id(trial: optuna.Trial | FrozenTrial) -> int:
    """A trial's id in its storage (unique across studies; not its number)."""
    return trial._trial_id


def frozen(trial: optuna.Trial | FrozenTrial) -> FrozenTrial:
    """The trial as Optuna last read it, without a storage round trip for a running one."""
    return trial._cached_frozen_trial if isinstance(trial, optuna.Trial) else trial


def heartbeat(
    storage: optuna.storages.BaseStorage, trial_id: int
) -> contextlib.AbstractContextManager:
    """Optuna's heartbeat thread for a running trial, as ``Study.optimize`` runs it (a no-op
    where the storage has no heartbeat)."""
    return get_heartbeat_thread(trial_id, storage)


def backend(storage: Any) -> Any:
    """The storage under Optuna's cache (or the storage itself)."""
    return getattr(storage, "_backend", storage)

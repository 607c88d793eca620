"""Opening a storage to read a study that must already exist: reports, ensembles, final runs.

Optuna creates a SQLite database or a journal file that is not there; for a reader that is a
mistyped ``--storage``, not a new empty study, so the file must exist first.
"""

from __future__ import annotations

import optuna

from common.cli import UserError
from storage.opening import open_storage
from storage.urls import _journal_path, _sqlite_path, mask_url, storage_kind


def open_existing(url: str) -> optuna.storages.BaseStorage:
    """The storage at ``url`` for reading (no heartbeat); a :class:`UserError` naming the file
    when a SQLite database or a journal file does not exist."""
    kind = storage_kind(url)
    path = _sqlite_path(url) if kind == "sqlite" else None
    if kind == "journal-file":
        path = _journal_path(url)
    if path is not None and not path.exists():
        raise UserError(f"--storage {mask_url(url)}: {path} does not exist")
    return open_storage(url, heartbeat_interval=None)

"""Opening a storage to read a study that must already exist: reports, ensembles, final runs.

Optuna creates a SQLite database or a journal file that is not there; for a reader that is a
mistyped ``--storage``, not a new empty study, so the file must exist first.
"""

from __future__ import annotations

import optuna

from common.cli import UserError
from storage.opening import open_storage
from storage.urls import local_file, mask_url


def open_existing(url: str) -> optuna.storages.BaseStorage:
    """The storage at ``url`` for reading (no heartbeat); a :class:`UserError` naming the file
    when a SQLite database or a journal file does not exist."""
    path = local_file(url)
    if path is not None and not path.exists():
        raise UserError(f"--storage {mask_url(url)}: {path} does not exist")
    return open_storage(url, heartbeat_interval=None)

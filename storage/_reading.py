"""Opening a storage to read a study that must already exist: reports, ensembles, final runs,
the dashboard.

Optuna creates a SQLite database or a journal file that is not there; for a reader that is a
mistyped ``--storage``, not a new empty study, so the file must exist first.

A SQLite database in write-ahead-log mode cannot be opened, even to read, where its folder takes
no more bytes (a full or read-only disk): every connection needs the shared-memory file beside it.
A reader then reads a copy of the database and its log in the temporary folder (removed when the
process ends), so a study whose disk filled up can still be reported on.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import sqlite3
import tempfile
from pathlib import Path

import optuna

from common._cli import UserError
from storage._opening import open_storage
from storage._retry import StorageFull
from storage._urls import local_file, mask_url, storage_kind

log = logging.getLogger(__name__)
_ROOM_BYTES = 1 << 20  # a reader's connection may write its shared-memory file and a little log


def open_existing(url: str) -> optuna.storages.BaseStorage:
    """The storage at ``url`` for reading (no heartbeat); a :class:`UserError` naming the file
    when a SQLite database or a journal file does not exist. A SQLite database that cannot be
    opened in place for want of room is read from a copy (see the module doc)."""
    path = local_file(url)
    if path is not None and not path.exists():
        raise UserError(f"--storage {mask_url(url)}: {path} does not exist")
    if path is None or storage_kind(url) != "sqlite":
        return open_storage(url, heartbeat_interval=None)
    try:
        return open_storage(url, heartbeat_interval=None)
    except UserError as exc:
        if not isinstance(exc, StorageFull) and _opens_in_place(path) and _has_room(path):
            raise  # not for want of room: the one-line error stands
    log.warning("%s: its disk is full or read-only; reading a copy of it", path)
    return open_storage(f"sqlite:///{_copy_elsewhere(path)}", heartbeat_interval=None)


def _has_room(path: Path) -> bool:
    return shutil.disk_usage(path.parent).free >= _ROOM_BYTES


def _opens_in_place(path: Path) -> bool:
    """Whether a read-only connection reads the database where it is."""
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return True


def _copy_elsewhere(path: Path) -> Path:
    """The database with its write-ahead log, copied into a temporary folder of its own."""
    folder = Path(tempfile.mkdtemp(prefix="re-search-read-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    try:
        shutil.copyfile(path, folder / path.name)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():  # committed writes not yet in the database file
            shutil.copyfile(wal, folder / wal.name)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    return folder / path.name

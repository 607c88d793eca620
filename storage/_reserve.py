"""Room kept on a local storage's disk for the writes that end a search when that disk is full.

A full disk stops every worker that writes to it. A worker that cannot even record its own
trial's failure (the write that says FAIL needs room too) leaves the trial RUNNING. On SQLite the
write-ahead log is what fills a small disk first: every commit appends its pages to it, and only
a checkpoint, which needs room of its own, gives them back. So the launcher of a search on a
SQLite database or a journal file keeps a reserve file beside it (``NAME.reserve``,
:data:`RESERVE_BYTES`, allocated on disk), and once its workers have stopped it deletes the file
and fails, under the study's lock, the trials they could not fail. The next search on a disk
with room allocates the reserve again. Launchers on one storage share the file; the last one to
end deletes it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from storage._liveness import FAIL_REASON
from storage._locks import storage_lock
from storage._urls import local_file

# a failed trial's reason and state are two commits of a few pages each: room for dozens
RESERVE_BYTES = 256 * 1024


def reserve_path(url: str) -> Path | None:
    """The reserve file beside a SQLite database or journal file; None for other storages."""
    path = local_file(url.strip())
    return None if path is None else path.with_name(path.name + ".reserve")


_held: dict[Path, int] = {}  # reserve -> this launcher's descriptor, with a shared lock on it


def keep_reserve(url: str) -> Path | None:
    """Allocate the reserve beside the storage's file (up to :data:`RESERVE_BYTES`; less where
    the disk has less room) and hold it (a shared ``flock``) until :func:`drop_reserve`.
    Returns its path, None where the storage has no local file."""
    path = reserve_path(url)
    if path is None or path in _held:
        return path
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            _allocate(fd, RESERVE_BYTES)
        except OSError:
            os.close(fd)
            raise
        _held[path] = fd
    return path


def drop_reserve(url: str) -> None:
    """At the launcher's end: delete the reserve unless another launcher on the same storage
    still holds it (it deletes it when it ends). A launcher that was killed holds nothing."""
    path = reserve_path(url)
    fd = _held.pop(path, None) if path is not None else None
    if fd is None:
        return
    try:
        with contextlib.suppress(OSError):  # BlockingIOError: another launcher holds it
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _allocate(fd: int, size: int) -> None:
    """Blocks on disk, not a sparse file: a file system without fallocate gets written zeros."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, bytes(size))


def release_reserve(url: str) -> bool:
    """Delete the reserve, giving its room to the writes that follow. False if there was none."""
    path = reserve_path(url)
    if path is None or not path.exists():
        return False
    # emptied first: launchers that hold it open would keep a deleted file's blocks
    with contextlib.suppress(OSError):
        os.truncate(path, 0)
    path.unlink(missing_ok=True)
    return True


def fail_left_running(
    storage: optuna.storages.BaseStorage, study_name: str, reasons: dict[int, str]
) -> tuple[list[int], list[int]]:
    """Fail the RUNNING trials ``reasons`` names (trial id -> fail reason), under the study's
    lock. Returns (the ids this call failed, the ids still RUNNING because a write failed).
    A trial that is already finished is neither."""
    failed, left = [], []
    with storage_lock(storage, f"study:{study_name}"):
        for trial_id, reason in reasons.items():
            try:
                if storage.get_trial(trial_id).state != TrialState.RUNNING:
                    continue
                storage.set_trial_user_attr(trial_id, FAIL_REASON, reason)
                if storage.set_trial_state_values(trial_id, TrialState.FAIL):
                    failed.append(trial_id)
            except UpdateFinishedTrialError:
                continue
            except Exception:  # the disk is still full: nothing more to do from here
                left.append(trial_id)
    return failed, left

"""Trial artifacts on a file system, with no partial file left behind by a failed write."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import BinaryIO

from optuna.artifacts import FileSystemArtifactStore

# errors that no retry cures: the disk (or the file system) takes no more writes
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


class CleanFileSystemArtifactStore(FileSystemArtifactStore):
    """Optuna's file-system store, except that a write that fails (a full disk) removes the
    truncated file it began, rather than leaving it for a reader to trust."""

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        try:
            super().write(artifact_id, content_body)
        except OSError:
            (Path(self._base_path) / artifact_id).unlink(missing_ok=True)
            raise


def is_no_space(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full or read-only disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in NO_SPACE_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False

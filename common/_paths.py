"""Where the caches live, and how a directory appears there whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from common._cli import UserError

CACHE_ENV = "RE_SEARCH_CACHE"


def cache_root() -> Path:
    """``$RE_SEARCH_CACHE`` if set, else ``~/.cache/re-search``: the sample data, the tiny and
    TAPT models and the tokenized data, shared by every worker of the machine."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "re-search"


@contextmanager
def atomic_directory(
    target: Path, complete: Callable[[Path], bool], flag: str | None = None
) -> Iterator[Path]:
    """Yield a scratch directory beside ``target``; when the block ends cleanly, rename it to
    ``target``, so that a reader never sees half of it.

    Another process may build the same directory at the same time: when its copy is in place
    first (``complete(target)``), ours is dropped and theirs kept. The rename replaces an empty
    directory, never a full one. ``flag`` names the flag that chose ``target``, for the error
    when its parent cannot be written; without it, the target is in the cache.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        if flag:
            raise UserError(f"{flag}: cannot write there ({exc.strerror})") from None
        raise UserError(
            f"{target.parent}: cannot write the cache there ({exc.strerror}); set ${CACHE_ENV}"
        ) from None
    try:
        yield scratch
        scratch.chmod(0o755)  # mkdtemp makes it private; a cache may be shared between users
        try:
            os.rename(scratch, target)
        except OSError:
            if not complete(target):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

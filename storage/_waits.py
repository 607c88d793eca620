"""How long a storage client waits for a server that is away: the database behind a relational
storage (:mod:`storage._retry`) and the gRPC proxy (:mod:`storage._grpc_client`,
:mod:`storage._grpc_lock`) alike.

:data:`RETRY_FOR_S`, or the seconds in the environment variable :data:`RETRY_ENV`, read once per
process (a worker inherits its launcher's environment). A worker whose call waited that long
stops with one line, and its launcher starts it again once the storage answers
(:mod:`search._restarts`).
"""

from __future__ import annotations

import functools
import os

from common._cli import UserError

RETRY_FOR_S = 60.0
RETRY_ENV = "RE_SEARCH_STORAGE_RETRY_S"  # a shorter or longer window than RETRY_FOR_S


@functools.cache
def retry_window() -> float:
    """The seconds a storage call waits for its server before it gives up."""
    text = os.environ.get(RETRY_ENV, "").strip()
    if not text:
        return RETRY_FOR_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise UserError(f"{RETRY_ENV}={text}: the storage retry window is a number of seconds > 0")
    return seconds

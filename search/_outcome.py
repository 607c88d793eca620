"""How a trial ended, as a value, and what each way of failing makes its worker do next.

The objective returns an :data:`Outcome` to the worker instead of raising: :class:`Complete`
with its values, :class:`Pruned` with its standing at the rung, or :class:`Failed` with a
:class:`Cause`. The worker turns it into the trial's state and its own next :class:`Step` in one
function (``search.worker``); the table of causes below is the only place that says which
failures let it go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from search._attrs import STORAGE_FAILED
from search._interrupts import WorkerInterrupted
from storage._artifacts import ArtifactStoreUnavailable, is_no_space
from storage._retry import DISK_FULL, StorageFull, StorageUnavailable


class Step(Enum):
    """What the worker does after a trial."""

    NEXT = "take the next trial"
    RETRY = "enqueue the trial again and wait for the artifact store"
    STOP = "stop, exiting with the signal's code"
    RAISE = "stop with the error's one line"


class Cause(Enum):
    """Why a trial failed."""

    DIVERGED = "diverged"  # the configuration's fault: a NaN loss, a collapsed model
    CRASHED = "crashed"  # anything else the trial raised
    STORE_DOWN = "artifact store down"  # the artifact store did not take the predictions
    INTERRUPTED = "interrupted"  # SIGINT or SIGTERM during the run
    DISK_FULL = "disk full"  # the storage's disk is full or read-only
    STORAGE_UNAVAILABLE = "storage unavailable"  # the database stayed away past the retry window

    @property
    def step(self) -> Step:
        return _STEPS[self]

    @property
    def runs_again(self) -> bool:
        """Whether the failed trial's parameters are enqueued again: the failure was not the
        configuration's, and another worker (or this one started again) can run it."""
        return self in (Cause.STORE_DOWN, Cause.STORAGE_UNAVAILABLE)


_STEPS = {
    Cause.DIVERGED: Step.NEXT,
    Cause.CRASHED: Step.NEXT,  # but MAX_CRASHES in a row stop the worker
    Cause.STORE_DOWN: Step.RETRY,  # not the trial's fault: it runs again once the store answers
    Cause.INTERRUPTED: Step.STOP,
    Cause.DISK_FULL: Step.RAISE,  # a retry would only fill the disk again
    Cause.STORAGE_UNAVAILABLE: Step.RAISE,  # its launcher starts it again (search._restarts)
}
# the same crash every time is a bug or a broken setup, not a bad configuration
MAX_CRASHES = 3


@dataclass(frozen=True)
class Complete:
    values: tuple[float, ...]


@dataclass(frozen=True)
class Pruned:
    standing: str  # the pruner's account: rung, position, who dominated it


@dataclass(frozen=True)
class Failed:
    cause: Cause
    reason: str  # the trial's fail_reason
    error: BaseException | None = None  # what was raised, for the worker's log and its stop

    @property
    def step(self) -> Step:
        return self.cause.step


Outcome = Complete | Pruned | Failed


def failure(exc: BaseException) -> Failed:
    """The :class:`Failed` outcome of an exception raised while a trial ran or was recorded."""
    if isinstance(exc, WorkerInterrupted):
        return Failed(Cause.INTERRUPTED, str(exc), exc)  # "interrupted by SIGINT"
    if isinstance(exc, StorageFull) or is_no_space(exc):
        said = str(exc) if isinstance(exc, StorageFull) else ""
        said = said or f"{DISK_FULL}: {exc}"
        return Failed(Cause.DISK_FULL, f"{STORAGE_FAILED}{said}"[:500], exc)
    if isinstance(exc, StorageUnavailable):
        return Failed(Cause.STORAGE_UNAVAILABLE, f"{STORAGE_FAILED}{exc}"[:500], exc)
    if isinstance(exc, ArtifactStoreUnavailable):
        return Failed(Cause.STORE_DOWN, str(exc), exc)
    return Failed(Cause.CRASHED, f"{type(exc).__name__}: {exc}"[:500], exc)

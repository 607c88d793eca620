"""SIGINT and SIGTERM in a worker: a stop request between trials, an exception inside one."""

from __future__ import annotations

import logging
import signal

from storage.artifacts import is_no_space
from storage.retry import StorageFull


class WorkerInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a trial ran. A KeyboardInterrupt, so that Optuna marks the
    running trial FAIL (it catches Exception and KeyboardInterrupt) before it reaches us."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


class Interrupts:
    """Turns SIGINT/SIGTERM into a stop request; while a trial runs, into WorkerInterrupted."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.armed = False

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)
        # Optuna logs the interrupted trial's failure with its traceback: the trial's recorded
        # reason and the command's one line say it all
        # (a filter on the handler: one on the logger misses its children's records)
        for handler in logging.getLogger("optuna").handlers:
            handler.addFilter(self._quiet_after_signal)

    def _quiet_after_signal(self, record: logging.LogRecord) -> bool:
        if self.signum is not None and record.levelno < logging.ERROR:
            return False
        # a full disk ends the command with its own one line; its trial records the reason
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or not (isinstance(exc, StorageFull) or is_no_space(exc))

    def _handle(self, signum: int, frame: object) -> None:
        self.signum = signum
        if self.armed:
            self.armed = False
            raise WorkerInterrupted(signum)

    def arm(self) -> None:
        """A trial starts: from now a signal interrupts it. One that came while the trial was
        being set up (after the worker last looked) interrupts it now."""
        self.armed = True
        if self.signum is not None:
            self.armed = False
            raise WorkerInterrupted(self.signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum if self.signum else 0

"""SIGINT and SIGTERM in a worker: a stop request between trials, an exception inside one."""

from __future__ import annotations

import signal


class WorkerInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a trial ran. A KeyboardInterrupt, so that no ``except
    Exception`` in the training code swallows it; the objective returns it as an outcome."""

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

"""Worker log lines on the launcher's console.

Each worker process logs to its own file (``logs/STUDY/worker-N.log``, a line per trial start and
end at INFO). With ``-v`` the launcher forwards what the workers add to those files, each line
prefixed with its worker (``worker 1 | ...``), at every poll of its loop; the files keep them.
Without ``-v`` nothing is forwarded: the console has the progress bar and the summary.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path


def log_file(log_dir: Path, slot: int) -> Path:
    return log_dir / f"worker-{slot}.log"


class LogEcho:
    """Forwards the lines added to ``worker-N.log`` after it was made (an earlier run's lines in
    the same files stay there)."""

    def __init__(
        self,
        log_dir: Path | None,
        slots: int,
        write: Callable[[str], None] | None = None,
        enabled: bool | None = None,
    ) -> None:
        if enabled is None:  # -v (or --log-level INFO/DEBUG) on the launcher
            enabled = logging.getLogger("search.run").isEnabledFor(logging.INFO)
        self.log_dir = log_dir if enabled else None
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.offsets = {i: self._size(i) for i in range(slots)}
        self.partial = dict.fromkeys(range(slots), b"")

    def _size(self, slot: int) -> int:
        if self.log_dir is None:
            return 0
        path = log_file(self.log_dir, slot)
        return path.stat().st_size if path.exists() else 0

    def poll(self) -> int:
        """Forward every complete line added since the last poll; the number forwarded."""
        if self.log_dir is None:
            return 0
        forwarded = 0
        for slot, offset in self.offsets.items():
            path = log_file(self.log_dir, slot)
            if not path.exists():
                continue
            with open(path, "rb") as f:
                f.seek(offset)
                data = self.partial[slot] + f.read()
                self.offsets[slot] = f.tell()
            *lines, self.partial[slot] = data.split(b"\n")
            for line in lines:
                self.write(f"worker {slot} | {line.decode('utf-8', errors='replace')}")
                forwarded += 1
        return forwarded

"""Progress bars that suit where they are written: redrawn in place on a terminal, one line per
drawing (no carriage returns, at most one every ``min_interval`` seconds) in a file or a pipe,
where ``docker compose logs``, ``kubectl logs`` and grep read lines."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm.auto import tqdm

# a log file gets a line at most this often from a bar that moves at every step
FILE_INTERVAL_S = 30.0


class LineWriter:
    """A stream for tqdm that turns its in-place redraws into whole lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


def progress_bar(file: TextIO | None = None, disable: bool = False, **kwargs: Any) -> tqdm:
    """``tqdm(**kwargs)`` writing to ``file`` (default stderr), as lines where it is no terminal."""
    stream = file or sys.stderr
    terminal = stream.isatty()
    if not terminal:
        stream = LineWriter(stream)
        kwargs.setdefault("mininterval", FILE_INTERVAL_S)
    return tqdm(file=stream, disable=disable, dynamic_ncols=terminal, **kwargs)

"""The progress bar: drawn once at the start, and a time left that leaves out the first trial
(which builds the caches)."""

from __future__ import annotations

import io

from search._progress import Progress


class _Log(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_first_empty_bar_is_drawn_once():
    log = _Log()
    progress = Progress(40, quiet=False, file=log)
    progress.show(0, "")
    progress.show(0, "")
    assert log.getvalue().count("0/40") == 1
    progress.close()


def test_time_left_ignores_the_slow_first_trial():
    log, clock = _Log(), _Clock()
    progress = Progress(40, quiet=False, file=log, clock=clock)
    clock.now = 3600.0  # the first trial builds caches: an hour
    progress.show(1, "best 10.0 5.0")
    assert "left" not in log.getvalue().splitlines()[-1]
    clock.now += 2 * 60.0  # then two trials of a minute each
    progress.show(3, "best 20.0 6.0")
    last = log.getvalue().splitlines()[-1]
    assert "3/40" in last and "~37 min left, best 20.0 6.0" in last
    progress.close()


def test_a_log_file_gets_one_line_per_change_and_no_carriage_return():
    log = _Log()
    progress = Progress(8, quiet=False, file=log)
    for done in (0, 1, 1, 2, 2, 2, 3):
        progress.show(done, f"best {done}.0")
        progress.tick()  # the clock moves: redrawn on a terminal only
    progress.close()
    text = log.getvalue()
    assert "\r" not in text
    drawn = [line for line in text.splitlines() if "/8" in line]
    counts = [line.split("|")[-1].split("/")[0].strip() for line in drawn]
    assert counts.count("1") == 1 and counts.count("2") == 1  # once per change, not per tick
    assert counts[:2] == ["0", "0"] and "3" in counts  # the empty bar, then its first best

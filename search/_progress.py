"""The launcher's progress bar over a whole study, and the best result it shows."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

import optuna

from common._bars import progress_bar


class Progress:
    """The bar over the whole study: drawn again when the count or the best result changes, and
    on a terminal also at every ``tick`` (its clock moves); written to a log file or a pipe, it
    gives one line per change (``common._bars``).

    The time left is estimated from the trials after the first one to finish: the first builds
    the caches (tokenized data, the tiny model) and is much slower than the rest."""

    FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"

    def __init__(
        self,
        total: int,
        quiet: bool,
        file: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        file = file or sys.stderr
        self.bar = progress_bar(
            file,
            total=total,
            desc="trials",
            unit="trial",
            disable=quiet,
            bar_format=self.FORMAT,
        )
        self.terminal = file.isatty()
        self.file = file
        self.shown: tuple[int, str] = (0, "")  # what tqdm drew on creation
        self.clock = clock
        self.first: tuple[int, float] | None = None  # (count, time) when a first trial finished

    def show(self, done: int, best: str) -> None:
        if (done, best) == self.shown:
            self.tick()
            return
        self.shown = (done, best)
        self.bar.n = done
        postfix = ", ".join(part for part in (self.eta(done), best) if part)
        self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.refresh()

    def eta(self, done: int) -> str:
        """``~N min left`` from the pace since the first finished trial; empty until known."""
        now = self.clock()
        if self.first is None:
            if done > 0:
                self.first = (done, now)
            return ""
        count, since = self.first
        if done <= count or done >= self.bar.total:
            return ""
        per_trial = (now - since) / (done - count)
        return f"~{max(1, round(per_trial * (self.bar.total - done) / 60))} min left"

    def write(self, line: str) -> None:
        """A line above the bar: on a terminal the bar is drawn again under it."""
        self.bar.write(line, file=self.file)

    def tick(self) -> None:
        if self.terminal:
            self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def best_text(study: optuna.Study) -> str:
    """The best first objective so far and that trial's other values (a Pareto-optimal trial)."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return ""
    top = max(complete, key=lambda t: t.values)
    return "best " + " ".join(f"{v:.1f}" for v in top.values)

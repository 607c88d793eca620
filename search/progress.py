"""The progress bar over a whole study, as a launcher draws it."""

from __future__ import annotations

import sys
from typing import TextIO

import optuna
from tqdm.auto import tqdm


class Progress:
    """The bar over the whole study: drawn again when the count or the best result changes, and
    on a terminal also at every ``tick`` (its clock moves); written to a log file or a pipe,
    where each drawing is a new line, it gives one line per change."""

    def __init__(self, total: int, quiet: bool, file: TextIO | None = None) -> None:
        file = file or sys.stderr
        self.bar = tqdm(total=total, desc="trials", unit="trial", disable=quiet, file=file)
        self.terminal = file.isatty()
        self.shown: tuple[int, str] | None = None

    def show(self, done: int, best: str) -> None:
        if (done, best) == self.shown:
            self.tick()
            return
        self.shown = (done, best)
        self.bar.n = done
        self.bar.set_postfix_str(best, refresh=False)
        self.bar.refresh()

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

"""One log line per trial start and end: number, parameters in short, result, duration, and why
it was pruned or failed. Workers log at INFO into their log files; ``search.run -v`` shows the
same lines on the console."""

from __future__ import annotations

import logging

import optuna
from optuna.trial import FrozenTrial, TrialState

from search import _attrs as attrs

log = logging.getLogger("search.trial")


def started(trial: optuna.Trial, worker: str) -> None:
    log.info("trial %d started on %s", trial.number, worker)


def short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def ended_line(trial: FrozenTrial, names: list[str]) -> str:
    seconds = trial.duration.total_seconds() if trial.duration else 0.0
    if trial.state == TrialState.COMPLETE and trial.values:
        result = ", ".join(f"{n} {v:.2f}" for n, v in zip(names, trial.values, strict=False))
    else:
        result = attrs.trial_reason(trial) or "no reason recorded"
    params = " ".join(f"{k}={short(v)}" for k, v in trial.params.items())
    return (
        f"trial {trial.number} {trial.state.name.lower()} after {seconds:.1f} s: {result}; {params}"
    )


class TrialLog:
    """A study callback: the line of each trial this worker ended."""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        names = list(study.metric_names or [f"objective {i}" for i in range(len(study.directions))])
        level = logging.WARNING if trial.state == TrialState.FAIL else logging.INFO
        log.log(level, ended_line(trial, names))

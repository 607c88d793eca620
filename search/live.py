"""What a worker shows while trials run: the all-objective learning curves (running trials
included) and the study's note, refreshed at a bounded cost.

At each evaluation a worker may publish its running trial's evaluations so far (once per
``every`` seconds per worker) and then rebuild the study's figure and note, which the whole study
does at most once per ``every`` seconds: the time of the last rebuild is a study system attribute
that every worker reads before rebuilding. Two workers reading it at the same moment may both
rebuild; the bound is then one rebuild per worker per period, never one per evaluation.
"""

from __future__ import annotations

import logging
import time

import optuna
from optuna.trial import FrozenTrial

from search.analysis.curves import publish_learning_curves
from search.analysis.study_note import study_note
from search.attrs import LIVE_PUBLISHED_AT, set_trial_evals
from search.config import SearchConfig
from search.pruning.why import save_note

log = logging.getLogger(__name__)


class LiveView:
    """Refreshes a study's learning-curve figure and note: a pruner's watcher at each evaluation
    (:meth:`at_evaluation`) and a study callback after each trial."""

    def __init__(self, config: SearchConfig, every: float | None = None) -> None:
        self.config = config
        self.every = config.live_every if every is None else every
        self.last_local = -float("inf")
        self.rebuilds = 0

    def at_evaluation(self, study: optuna.Study, trial: optuna.Trial, evals: dict) -> None:
        now = time.monotonic()
        if now - self.last_local < self.every:
            return
        self.last_local = now
        try:
            set_trial_evals(trial, evals)  # the running trial's curve so far
        except Exception as exc:  # a view is no reason to fail the trial; the storage decides
            log.warning("live curves: %s: %s", type(exc).__name__, exc)
            return
        self.refresh(study)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.refresh(study)

    def refresh(self, study: optuna.Study, force: bool = False) -> bool:
        """Rebuild the figure and the note unless the study had them rebuilt recently; a
        failure is logged, never raised (the trials matter, their view can wait)."""
        try:
            return self._refresh(study, force)
        except Exception as exc:
            log.warning("live curves and study note: %s: %s", type(exc).__name__, exc)
            return False

    def _refresh(self, study: optuna.Study, force: bool) -> bool:
        storage, study_id = study._storage, study._study_id
        last = storage.get_study_system_attrs(study_id).get(LIVE_PUBLISHED_AT, 0.0)
        if not force and time.time() - float(last) < self.every:
            return False
        storage.set_study_system_attr(study_id, LIVE_PUBLISHED_AT, time.time())
        publish_learning_curves(study)
        save_note(study, study_note(study, self.config))
        self.rebuilds += 1
        return True

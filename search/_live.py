"""What a worker shows while trials run: the learning curves (running trials included) and the
study's note, kept current at a bounded cost.

At every evaluation a worker stores its running trial's evaluations so far and saves the running
trials' figure (``search.analysis._curves``: a few trials, milliseconds), so the dashboard is at
most one evaluation behind any running trial, from its first evaluation. When a trial ends, the
figure of every trial and the note are saved at once, so a state change shows at the dashboard's
next refresh. While trials run, the figure of every trial and the note (which cost more with the
study's size) are rebuilt at most once per ``every`` seconds for the whole study: the time of the
last rebuild is a study system attribute that every worker reads before rebuilding.
"""

from __future__ import annotations

import logging
import time

import optuna
from optuna.trial import FrozenTrial

from search._attrs import LIVE_PUBLISHED_AT, set_trial_evals
from search._config import SearchConfig
from search.analysis._curves import publish_learning_curves, publish_running_curves
from search.analysis._study_note import study_note
from search.pruning._why import save_note
from storage._optuna import storage_of
from storage._optuna import study_id as study_number

log = logging.getLogger(__name__)


class LiveView:
    """Refreshes a study's learning-curve figure and note: a pruner's watcher at each evaluation
    (:meth:`at_evaluation`) and a study callback after each trial."""

    def __init__(self, config: SearchConfig, every: float | None = None) -> None:
        self.config = config
        self.every = config.deployment.live_every if every is None else every
        self.running_cost = 0.0
        self.last_local = -float("inf")  # this worker's last look at the study's clock
        self.rebuilds = 0

    def at_evaluation(self, study: optuna.Study, trial: optuna.Trial, evals: dict) -> None:
        try:
            set_trial_evals(trial, evals)  # the running trial's curve so far
            self._running(study)
        except Exception as exc:  # a view is no reason to fail the trial; the storage decides
            log.warning("live curves: %s: %s", type(exc).__name__, exc)
            return
        now = time.monotonic()
        if now - self.last_local >= self.every:
            self.last_local = now
            self.refresh(study)

    def _running(self, study: optuna.Study) -> None:
        """The running trials' figure: a few trials, milliseconds, at every evaluation (a real
        trial evaluates seconds apart); ``running_cost`` says how long the last save took."""
        start = time.monotonic()
        publish_running_curves(study)
        self.running_cost = time.monotonic() - start

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """A trial ended: its new state is in both figures at once."""
        try:
            self._running(study)
        except Exception as exc:
            log.warning("live curves: %s: %s", type(exc).__name__, exc)
        self.refresh(study, force=True)

    def refresh(self, study: optuna.Study, force: bool = False) -> bool:
        """Rebuild the figure and the note unless the study had them rebuilt recently; a
        failure is logged, never raised (the trials matter, their view can wait)."""
        try:
            return self._refresh(study, force)
        except Exception as exc:
            log.warning("live curves and study note: %s: %s", type(exc).__name__, exc)
            return False

    def _refresh(self, study: optuna.Study, force: bool) -> bool:
        storage, study_id = storage_of(study), study_number(study)
        last = storage.get_study_system_attrs(study_id).get(LIVE_PUBLISHED_AT, 0.0)
        if not force and time.time() - float(last) < self.every:
            return False
        storage.set_study_system_attr(study_id, LIVE_PUBLISHED_AT, time.time())
        publish_learning_curves(study)
        save_note(study, study_note(study, self.config))
        self.rebuilds += 1
        return True

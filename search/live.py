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
from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial

from search.analysis.curves import publish_learning_curves
from search.analysis.study_note import study_note
from search.attrs import EVALS_ATTR, LIVE_PUBLISHED_AT, set_trial_record
from search.config import SearchConfig
from search.pruning.pruner import stored
from search.pruning.stoppers import Stopper
from search.pruning.why import save_note
from storage._optuna import storage_of, trial_id
from storage._optuna import study_id as study_number

log = logging.getLogger(__name__)


class LiveView:
    """Refreshes a study's learning-curve figure and note; a study callback after each trial."""

    def __init__(self, config: SearchConfig, every: float | None = None) -> None:
        self.config = config
        self.every = config.deployment.live_every if every is None else every
        self.last_local = -float("inf")
        self.rebuilds = 0

    def at_evaluation(self, study: optuna.Study, trial: optuna.Trial, evals: dict) -> None:
        now = time.monotonic()
        if now - self.last_local < self.every:
            return
        self.last_local = now
        try:
            set_trial_record(trial, EVALS_ATTR, dict(evals))  # the running trial's curve so far
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
        storage, study_id = storage_of(study), study_number(study)
        last = storage.get_study_system_attrs(study_id).get(LIVE_PUBLISHED_AT, 0.0)
        if not force and time.time() - float(last) < self.every:
            return False
        storage.set_study_system_attr(study_id, LIVE_PUBLISHED_AT, time.time())
        publish_learning_curves(study)
        save_note(study, study_note(study, self.config))
        self.rebuilds += 1
        return True


class LiveStopper:
    """A stopper that also hands each evaluation to a :class:`LiveView`."""

    def __init__(self, inner: Stopper, view: LiveView) -> None:
        self.inner = inner
        self.view = view
        self._trial_id: int | None = None
        self._evals: dict[str, list[float]] = {}

    def keep_going(
        self, study: optuna.Study, trial: optuna.Trial, step: int, values: Sequence[float]
    ) -> bool:
        if trial_id(trial) != self._trial_id:
            self._trial_id, self._evals = trial_id(trial), {}
        self._evals[str(step)] = stored(values)
        keep = self.inner.keep_going(study, trial, step, values)
        if keep:
            self.view.at_evaluation(study, trial, self._evals)
        return keep

"""What a worker shows while trials run: the learning curves (running trials included) and the
study's note, kept current at a bounded cost.

At every evaluation a worker stores its running trial's evaluations so far and saves the running
trials' figure (``search.analysis.curves``: a few trials, milliseconds), so the dashboard is at
most one evaluation behind any running trial, from its first evaluation. When a trial ends, the
figure of every trial and the note are saved at once, so a state change shows at the dashboard's
next refresh. While trials run, the figure of every trial and the note (which cost more with the
study's size) are rebuilt at most once per ``every`` seconds for the whole study: the time of the
last rebuild is a study system attribute that every worker reads before rebuilding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial

from search.analysis.curves import publish_learning_curves, publish_running_curves
from search.analysis.study_note import study_note
from search.attrs import EVALS_ATTR, LIVE_PUBLISHED_AT, set_trial_record
from search.config import SearchConfig
from search.pruning.pruner import stored
from search.pruning.stoppers import Stopper
from search.pruning.why import save_note

log = logging.getLogger(__name__)


class LiveView:
    """Refreshes a study's learning-curve figures and note; a study callback after each trial."""

    def __init__(self, config: SearchConfig, every: float | None = None) -> None:
        self.config = config
        self.every = config.live_every if every is None else every
        self.running_cost = 0.0
        self.last_local = -float("inf")  # this worker's last look at the study's clock
        self.rebuilds = 0

    def at_evaluation(self, study: optuna.Study, trial: optuna.Trial, evals: dict) -> None:
        try:
            set_trial_record(trial, EVALS_ATTR, dict(evals))  # the running trial's curve so far
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
        storage, study_id = study._storage, study._study_id
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
        if trial._trial_id != self._trial_id:
            self._trial_id, self._evals = trial._trial_id, {}
        self._evals[str(step)] = stored(values)
        keep = self.inner.keep_going(study, trial, step, values)
        if keep:
            self.view.at_evaluation(study, trial, self._evals)
        return keep

"""Who decides, at each evaluation of a trial, whether it keeps training.

Every evaluation's first objective is stored at once as the trial's intermediate value (the
learning curve optuna-dashboard draws live). All objectives go into the ``evals`` attribute
(``search.pruning.pruner``) when someone must read them: MO-ASHA publishes a trial's
evaluations so far
at each of its rungs, where other workers compare against them, and the objective writes the
whole list when the run ends (one storage write, not one per evaluation). Then MO-ASHA decides in
a study with several objectives (Optuna's own pruners refuse those), or one of Optuna's pruners
in a single-objective study, or nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import optuna

from search.attrs import EVALS_ATTR, set_trial_record
from search.pruning import why
from search.pruning.moasha import Decision
from search.pruning.pruner import MOASHAPruner, record_curve, resource_at, stored

PRUNERS = ("moasha", "median", "hyperband", "none")


class Stopper(Protocol):
    def keep_going(
        self, study: optuna.Study, trial: optuna.Trial, step: int, values: Sequence[float]
    ) -> bool: ...


class MOASHAStopper:
    """Asynchronous successive halving on non-dominated rank (any number of objectives)."""

    def __init__(self, reduction_factor: int, min_resource: int, min_trials: int | None = None):
        self.pruner = MOASHAPruner(min_resource, reduction_factor, min_trials)
        self._trial_id: int | None = None
        self._evals: dict[str, list[float]] = {}  # this worker's running trial, all steps so far

    def keep_going(self, study, trial, step, values) -> bool:
        if trial._trial_id != self._trial_id:  # a new trial (a retry starts with its own)
            self._trial_id, self._evals = trial._trial_id, {}
        floats = stored(values)
        resource = resource_at({int(s): None for s in self._evals}, step)
        self._evals[str(step)] = floats
        record_curve(study, trial, step, floats[0])
        if not self.pruner.is_rung(resource):
            return True
        # at a rung: the evaluations so far, for this decision and for other trials' at this rung
        set_trial_record(trial, EVALS_ATTR, dict(self._evals))
        if self.pruner.should_stop(study, trial, step, floats) is Decision.CONTINUE:
            return True
        why.record(trial, why.explain(study, trial, step, floats, self.pruner))
        return False


class OptunaPrunerStopper:
    """Optuna's ``Trial.report``/``should_prune`` with the study's pruner (one objective)."""

    def keep_going(self, study, trial, step, values) -> bool:
        trial.report(float(values[0]), step)
        return not trial.should_prune()


class NeverStop:
    def keep_going(self, study, trial, step, values) -> bool:
        record_curve(study, trial, step, values[0])
        return True


def optuna_pruner(name: str) -> optuna.pruners.BasePruner:
    """The pruner object a study is opened with (Optuna needs one even where ours decides)."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    if name in ("moasha", "none"):
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}: search.config checks --pruner")


def make_stopper(
    name: str, reduction_factor: int = 3, min_resource: int = 1, min_trials: int | None = None
) -> Stopper:
    """``min_trials``: MO-ASHA stops nobody at a rung that holds fewer results (this trial's
    included); None: the reduction factor."""
    if name == "moasha":
        return MOASHAStopper(reduction_factor, min_resource, min_trials)
    if name in ("median", "hyperband"):
        return OptunaPrunerStopper()
    if name == "none":
        return NeverStop()
    raise ValueError(f"unknown pruner {name!r}: search.config checks --pruner")

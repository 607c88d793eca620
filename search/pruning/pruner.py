"""MO-ASHA pruning for multi-objective Optuna studies, and where a trial's evaluations live.

Optuna refuses ``Trial.report`` and ``Trial.should_prune`` in multi-objective studies, so this
module keeps its own convention, written by :func:`record_evaluation`:

- every evaluation of a trial is the trial's intermediate value at ``step`` for the FIRST
  objective, so optuna-dashboard draws its learning curve (storages accept intermediate values in
  multi-objective studies; only ``Trial.report`` refuses them);
- all objective values of that evaluation go into the trial record ``"evals"``
  (:func:`search.attrs.trial_evals`): a dict mapping
  ``str(step)`` (JSON keys are strings) to a list of floats in the study's objective order. A
  worker publishes it at the trial's rungs (``search.pruning.stoppers.MOASHAStopper``: every
  evaluation
  so far, so the r-th entry is always the r-th evaluation) and whole at the end of the run;
  :func:`record_evaluation` writes both at every evaluation, for tests and synthetic studies.

``step`` is a free label (optimizer step, epoch) that only has to increase within a trial. The
pruner counts the resource in evaluations: a trial's r-th evaluation in step order is its
resource r, and it is compared with the other trials' r-th evaluations
(see ``search/pruning/moasha.py``).
That assumes every trial evaluates on the same schedule, which is a run setting, not a
hyperparameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from search.attrs import EVALS_ATTR, set_trial_record, trial_evals
from search.pruning.moasha import Decision, budget_saved, decide, rung_index
from storage._optuna import set_intermediate_value

# Trials whose evaluations count at a rung. A FAIL trial's numbers may come from a broken run;
# WAITING trials have none yet.
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)


def record_evaluation(
    study: optuna.Study, trial: optuna.Trial, step: int, values: Sequence[float]
) -> None:
    """Store one evaluation of a running trial: first objective as intermediate value, all in attr.

    Values are in ``study.directions`` order. Earlier steps of ``"evals"`` are kept; recording a
    step twice overwrites it.
    """
    objectives = len(study.directions)
    if len(values) != objectives:
        raise ValueError(f"expected one value per objective ({objectives}), got {values}")
    floats = [float(value) for value in values]
    record_curve(study, trial, step, floats[0])
    evals = dict(trial_evals(trial))
    evals[str(step)] = floats
    set_trial_record(trial, EVALS_ATTR, evals)


STORED_DIGITS = 4  # metrics are x100: four decimals are far below their noise, and keep rows short


def stored(values: Sequence[float]) -> list[float]:
    """An evaluation's values as the ``evals`` attribute keeps them."""
    return [round(float(value), STORED_DIGITS) for value in values]


def record_curve(study: optuna.Study, trial: optuna.Trial, step: int, value: float) -> None:
    """The first objective at ``step`` as the trial's intermediate value: the dashboard's curve.
    Trial.report refuses multi-objective studies; the storage underneath does not."""
    set_intermediate_value(study, trial, step, float(value))


def evals_of(trial: FrozenTrial | optuna.Trial) -> dict[int, tuple[float, ...]]:
    """A trial's recorded evaluations, ``{step: values}`` in ascending step order."""
    raw: Mapping[str, Sequence[float]] = trial_evals(trial)
    return {int(step): tuple(float(value) for value in raw[step]) for step in sorted(raw, key=int)}


def resource_at(evals: Mapping[int, object], step: int) -> int:
    """The resource (1-based evaluation count) of an evaluation at ``step``, recorded yet or not."""
    return 1 + sum(1 for recorded in evals if recorded < step)


def evaluations_run(study: optuna.Study) -> list[int]:
    """Number of evaluations each finished (COMPLETE or PRUNED) trial recorded."""
    trials = study.get_trials(deepcopy=False, states=FINISHED_STATES)
    return [len(trial_evals(trial)) for trial in trials]


def study_budget_saved(study: optuna.Study, max_evaluations: int) -> dict[str, float]:
    """:func:`search.pruning.moasha.budget_saved` over the study's finished trials (evaluations)."""
    return budget_saved(evaluations_run(study), max_evaluations)


class MOASHAPruner:
    """Decides at each evaluation whether a trial of a multi-objective study keeps training.

    ``min_resource`` and ``reduction_factor`` place the rungs at evaluation counts
    ``min_resource * reduction_factor**k``; evaluations at or beyond ``max_resource`` (when given)
    are never stopped, since the trial is done anyway. ``min_trials`` (default: the reduction
    factor) is the number of results a rung needs before it stops anyone: below it, "the top
    1/eta" would be one trial judged against one or two peers.
    """

    def __init__(
        self,
        min_resource: int = 1,
        reduction_factor: int = 3,
        min_trials: int | None = None,
        max_resource: int | None = None,
    ) -> None:
        if min_resource < 1:
            raise ValueError(f"min_resource must be at least 1, got {min_resource}")
        if reduction_factor < 2:
            raise ValueError(f"reduction_factor must be at least 2, got {reduction_factor}")
        if min_trials is not None and min_trials < 1:
            raise ValueError(f"min_trials must be at least 1, got {min_trials}")
        if max_resource is not None and max_resource < min_resource:
            raise ValueError(f"max_resource {max_resource} is below min_resource {min_resource}")
        self.min_resource = min_resource
        self.reduction_factor = reduction_factor
        self.min_trials = reduction_factor if min_trials is None else min_trials
        self.max_resource = max_resource

    def is_rung(self, resource: int) -> bool:
        """Whether a trial's ``resource``-th evaluation is compared with the others'."""
        if self.max_resource is not None and resource >= self.max_resource:
            return False
        return rung_index(resource, self.min_resource, self.reduction_factor) is not None

    def should_stop(
        self,
        study: optuna.Study,
        trial: int | FrozenTrial | optuna.Trial,
        step: int,
        values: Sequence[float],
    ) -> Decision:
        """MO-ASHA's decision for ``trial``'s evaluation at ``step`` with objective ``values``.

        ``trial`` is a number or a trial object; given an object, its own recorded steps are read
        from it and the study is only queried at rung steps. At a rung, one ``study.get_trials``
        call collects the values every other non-failed trial had at its own evaluation of the
        same count.
        """
        maximize = [direction == StudyDirection.MAXIMIZE for direction in study.directions]
        if len(values) != len(maximize):
            raise ValueError(f"expected one value per objective ({len(maximize)}), got {values}")
        number = trial if isinstance(trial, int) else trial.number
        trials: list[FrozenTrial] | None = None
        if isinstance(trial, int):
            trials = study.get_trials(deepcopy=False, states=COUNTED_STATES)
            own = next((t for t in trials if t.number == number), None)
            own_evals = evals_of(own) if own is not None else {}
        else:
            own_evals = evals_of(trial)
        resource = resource_at(own_evals, step)
        if not self.is_rung(resource):
            return Decision.CONTINUE
        if trials is None:
            trials = study.get_trials(deepcopy=False, states=COUNTED_STATES)
        others = _values_at(trials, resource, exclude=number)
        me = tuple(float(value) for value in values)
        return decide(me, others, maximize, self.reduction_factor, self.min_trials)


def _values_at(
    trials: Sequence[FrozenTrial], resource: int, exclude: int
) -> list[tuple[float, ...]]:
    """Each trial's ``resource``-th evaluation, for the trials (but ``exclude``) that reached it."""
    found = []
    for trial in trials:
        if trial.number == exclude:
            continue
        raw = trial_evals(trial)
        if len(raw) >= resource:
            step = sorted(raw, key=int)[resource - 1]
            found.append(tuple(float(value) for value in raw[step]))
    return found

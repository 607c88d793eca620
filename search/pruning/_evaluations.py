"""Where a trial's evaluations live, and how pruning reads them back.

Optuna refuses ``Trial.report`` and ``Trial.should_prune`` in multi-objective studies, so the
search keeps its own convention, written by :func:`add_evaluation`:

- every evaluation of a trial is the trial's intermediate value at ``step`` for the FIRST
  objective, so optuna-dashboard draws its learning curve (storages accept intermediate values in
  multi-objective studies; only ``Trial.report`` refuses them);
- all objective values of that evaluation go into the trial record ``"evals"``
  (:func:`search.trial_evals`, written only by :func:`search._attrs.set_trial_evals`): a
  dict mapping ``str(step)`` (JSON keys are strings) to a list of floats in the study's objective
  order. A worker publishes it at the trial's rungs (:class:`search.pruning.MOASHAPruner`:
  every evaluation so far, so the r-th entry is always the r-th evaluation) and whole at the end
  of the run; :func:`add_evaluation` writes both at every evaluation, for tests and synthetic
  studies.

``step`` is a free label (optimizer step, epoch) that only has to increase within a trial. The
pruner counts the resource in evaluations: a trial's r-th evaluation in step order is its
resource r, and it is compared with the other trials' r-th evaluations (see
``search/pruning/_moasha.py``). That assumes every trial evaluates on the same schedule, which is
a run setting, not a hyperparameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from search._attrs import set_trial_evals, trial_evals
from search.pruning._moasha import budget_saved
from storage._optuna import set_intermediate_value

# Trials whose evaluations count at a rung. A FAIL trial's numbers may come from a broken run;
# WAITING trials have none yet.
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)


def add_evaluation(
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
    set_curve_point(study, trial, step, floats[0])
    evals = dict(trial_evals(trial))
    evals[str(step)] = floats
    set_trial_evals(trial, evals)


def set_curve_point(study: optuna.Study, trial: optuna.Trial, step: int, value: float) -> None:
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
    """:func:`~search.pruning._moasha.budget_saved` over the finished trials (evaluations)."""
    return budget_saved(evaluations_run(study), max_evaluations)


def values_at(
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

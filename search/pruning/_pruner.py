"""Pruners: who decides, at each evaluation of a running trial, whether it keeps training.

One class per algorithm under one base. The base keeps the worker's running trial's evaluations
(one copy, started afresh for each trial, a retry included) and hands them to a watcher (the live
view, :mod:`search._live`) after each evaluation that goes on; each algorithm only decides:

- :class:`MOASHAPruner`: asynchronous successive halving on non-dominated rank, for any number of
  objectives (Optuna's own pruners refuse several); it publishes the evaluations so far at each
  of the trial's rungs, where other workers compare against them;
- :class:`OptunaPruner`: ``Trial.report``/``should_prune`` with the study's Optuna pruner (one
  objective: median, hyperband);
- :class:`NoPruner`: every trial runs to its end.

Every evaluation's first objective is stored at once as the trial's intermediate value (the
learning curve optuna-dashboard draws live); the objective writes the whole ``evals`` record when
the run ends (one storage write, not one per evaluation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from search._attrs import set_trial_evals, stored
from search.pruning import _why as why
from search.pruning._evaluations import (
    COUNTED_STATES,
    evals_of,
    resource_at,
    set_curve_point,
    values_at,
)
from search.pruning._moasha import Decision, decide, rung_index

PRUNERS = ("moasha", "median", "hyperband", "none")

# called with (study, trial, evaluations so far) after each evaluation that lets the trial go on
Watcher = Callable[[optuna.Study, optuna.Trial, dict[str, list[float]]], None]


class Pruner:
    """The base: ``keep_going`` is the trial's ``report`` callback; subclasses :meth:`decide`."""

    def __init__(self) -> None:
        self.watcher: Watcher | None = None
        self._trial: int | None = None  # the number of the trial ``evals`` belong to
        self.evals: dict[str, list[float]] = {}  # its evaluations so far, as stored

    def keep_going(
        self, study: optuna.Study, trial: optuna.Trial, step: int, values: Sequence[float]
    ) -> bool:
        """Note ``trial``'s evaluation at ``step`` and say whether the trial keeps training."""
        if trial.number != self._trial:  # a new trial (a retry is a new trial too)
            self._trial, self.evals = trial.number, {}
        floats = stored(values)
        resource = resource_at({int(s): None for s in self.evals}, step)
        self.evals[str(step)] = floats
        keep = self.decide(study, trial, step, floats, resource)
        if keep and self.watcher is not None:
            self.watcher(study, trial, self.evals)
        return keep

    def decide(
        self,
        study: optuna.Study,
        trial: optuna.Trial,
        step: int,
        values: list[float],
        resource: int,
    ) -> bool:
        """Whether the trial keeps training after its ``resource``-th evaluation (at ``step``)."""
        raise NotImplementedError


class MOASHAPruner(Pruner):
    """MO-ASHA: successive halving on non-dominated rank at each rung.

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
        super().__init__()
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

    def decide(self, study, trial, step, values, resource) -> bool:
        set_curve_point(study, trial, step, values[0])
        if not self.is_rung(resource):
            return True
        # at a rung: the evaluations so far, for this decision and for other trials' at this rung
        set_trial_evals(trial, self.evals)
        if self.should_stop(study, trial, step, values) is Decision.CONTINUE:
            return True
        eta, low = self.reduction_factor, self.min_resource
        why.mark_pruned(trial, why.explain(study, trial, step, values, eta, low))
        return False

    def should_stop(
        self,
        study: optuna.Study,
        trial: int | FrozenTrial | optuna.Trial,
        step: int,
        values: Sequence[float],
    ) -> Decision:
        """MO-ASHA's decision for ``trial``'s evaluation at ``step`` with objective ``values``,
        from what the study holds.

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
        others = values_at(trials, resource, exclude=number)
        me = tuple(float(value) for value in values)
        return decide(me, others, maximize, self.reduction_factor, self.min_trials)


class OptunaPruner(Pruner):
    """Optuna's ``Trial.report``/``should_prune`` with the study's pruner (one objective)."""

    def decide(self, study, trial, step, values, resource) -> bool:
        trial.report(values[0], step)
        return not trial.should_prune()


class NoPruner(Pruner):
    """Every trial runs to its end; its curve is still drawn."""

    def decide(self, study, trial, step, values, resource) -> bool:
        set_curve_point(study, trial, step, values[0])
        return True


def make_pruner(
    name: str,
    reduction_factor: int = 3,
    min_resource: int = 1,
    watcher: Watcher | None = None,
    min_trials: int | None = None,
) -> Pruner:
    """The pruner ``--pruner name`` means, handing each evaluation that goes on to ``watcher``.
    ``min_trials``: MO-ASHA stops nobody at a rung that holds fewer results (this trial's
    included); by default the reduction factor."""
    if name == "moasha":
        pruner: Pruner = MOASHAPruner(min_resource, reduction_factor, min_trials)
    elif name in ("median", "hyperband"):
        pruner = OptunaPruner()
    elif name == "none":
        pruner = NoPruner()
    else:
        raise ValueError(f"unknown pruner {name!r}: search._config checks --pruner")
    pruner.watcher = watcher
    return pruner


def optuna_pruner(name: str) -> optuna.pruners.BasePruner:
    """The Optuna pruner a study is opened with (Optuna needs one even where ours decides)."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    if name in ("moasha", "none"):
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}: search._config checks --pruner")

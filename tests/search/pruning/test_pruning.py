"""MO-ASHA against real multi-objective Optuna studies: the evals convention and the pruner."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import EVALS_ATTR, trial_record
from search.pruning._evaluations import (
    add_evaluation,
    evals_of,
    evaluations_run,
    study_budget_saved,
)
from search.pruning._moasha import Decision
from search.pruning._pruner import MOASHAPruner

optuna.logging.set_verbosity(optuna.logging.WARNING)

STEP_EVERY = 50  # step labels are optimizer steps; the pruner counts evaluations
MAX_EVALS = 9


@pytest.fixture(params=["inmemory", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """Where the study lives: the evals convention must survive a JSON round trip."""
    yield None if request.param == "inmemory" else f"sqlite:///{tmp_path / 'study.db'}"


def _study(
    directions: Sequence[str] = ("maximize", "maximize"), storage: str | None = None
) -> optuna.Study:
    return optuna.create_study(directions=list(directions), storage=storage)


def _trial_at(study: optuna.Study, values: Sequence[tuple[float, ...]]) -> optuna.Trial:
    """A running trial that recorded ``values`` as its evaluations 1, 2, ..."""
    trial = study.ask()
    for k, point in enumerate(values, start=1):
        add_evaluation(study, trial, k * STEP_EVERY, point)
    return trial


def test_record_evaluation_writes_curve_and_all_objectives(storage: str | None) -> None:
    study = _study(storage=storage)
    trial = study.ask()
    add_evaluation(study, trial, 100, [0.25, 0.5])
    add_evaluation(study, trial, 20, [0.125, math.nan])
    add_evaluation(study, trial, 300, (0.75, 0.875))
    study.tell(trial, [0.75, 0.875])

    frozen = study.trials[0]
    assert frozen.intermediate_values == {20: 0.125, 100: 0.25, 300: 0.75}
    assert set(trial_record(frozen, EVALS_ATTR)) == {"20", "100", "300"}
    assert EVALS_ATTR not in frozen.user_attrs  # kept out of ``optuna trials``
    evals = evals_of(frozen)
    assert list(evals) == [20, 100, 300]
    assert evals[100] == (0.25, 0.5) and evals[300] == (0.75, 0.875)
    assert math.isnan(evals[20][1])


def test_record_evaluation_overwrites_a_step_and_checks_arity() -> None:
    study = _study()
    trial = study.ask()
    add_evaluation(study, trial, 1, [0.1, 0.2])
    add_evaluation(study, trial, 1, [0.3, 0.4])
    assert evals_of(trial) == {1: (0.3, 0.4)}
    with pytest.raises(ValueError, match="one value per objective"):
        add_evaluation(study, trial, 2, [0.5])


def test_dominated_trial_is_stopped_at_a_rung_but_not_between_rungs() -> None:
    study = _study()
    for _ in range(3):
        _trial_at(study, [(0.5, 0.5), (0.7, 0.7), (0.8, 0.8)])
    pruner = MOASHAPruner(min_resource=1, reduction_factor=3)
    weak = study.ask()
    # Resource 1 is a rung: (0.1, 0.1) is last of four, outside the top ceil(4/3) = 2.
    assert pruner.should_stop(study, weak, STEP_EVERY, (0.1, 0.1)) is Decision.STOP
    add_evaluation(study, weak, STEP_EVERY, (0.6, 0.6))
    assert pruner.should_stop(study, weak, STEP_EVERY, (0.6, 0.6)) is Decision.CONTINUE
    # The second evaluation is no rung: even a dominated one continues.
    assert pruner.should_stop(study, weak, 2 * STEP_EVERY, (0.1, 0.1)) is Decision.CONTINUE
    add_evaluation(study, weak, 2 * STEP_EVERY, (0.1, 0.1))
    # The resource is the evaluation count, not the step label: 1000 is the third evaluation.
    assert pruner.should_stop(study, weak, 1000, (0.1, 0.1)) is Decision.STOP


def test_trial_may_be_given_as_number_frozen_trial_or_trial() -> None:
    study = _study()
    for _ in range(3):
        _trial_at(study, [(0.9, 0.9)] * 3)
    me = _trial_at(study, [(0.2, 0.2), (0.3, 0.3)])
    frozen = study.trials[me.number]
    pruner = MOASHAPruner()
    # This is the trial's third evaluation, a rung, whether or not it has been recorded yet.
    step = 3 * STEP_EVERY
    for handle in (me, me.number, frozen):
        assert pruner.should_stop(study, handle, step, (0.1, 0.1)) is Decision.STOP
    add_evaluation(study, me, step, (0.1, 0.1))
    assert pruner.should_stop(study, me, step, (0.1, 0.1)) is Decision.STOP


def test_own_recorded_evaluation_is_not_counted_as_another_trial() -> None:
    study = _study()
    _trial_at(study, [(0.9, 0.9)])
    for _ in range(3):
        _trial_at(study, [(0.1, 0.1)])
    me = _trial_at(study, [(0.5, 0.5)])
    # n = 5, keep 2: second behind (0.9, 0.9). Counting its own record twice would make it third.
    assert MOASHAPruner().should_stop(study, me, STEP_EVERY, (0.5, 0.5)) is Decision.CONTINUE


def test_max_resource_is_never_a_stopping_point() -> None:
    study = _study()
    for _ in range(3):
        _trial_at(study, [(0.9, 0.9)] * 3)
    me = _trial_at(study, [(0.1, 0.1)] * 2)
    step = 3 * STEP_EVERY
    assert MOASHAPruner().should_stop(study, me, step, (0.1, 0.1)) is Decision.STOP
    capped = MOASHAPruner(max_resource=3)
    assert capped.should_stop(study, me, step, (0.1, 0.1)) is Decision.CONTINUE


def test_minimize_objective_from_study_directions() -> None:
    study = _study(("maximize", "minimize"))
    for f1, loss in [(0.9, 0.2), (0.85, 0.25), (0.8, 0.3)]:
        _trial_at(study, [(f1, loss)])
    pruner = MOASHAPruner(min_trials=1)
    me = study.ask()
    assert pruner.should_stop(study, me, STEP_EVERY, (0.5, 0.8)) is Decision.STOP
    # The lowest loss puts it on the front, so it continues despite the lower F1.
    assert pruner.should_stop(study, me, STEP_EVERY, (0.5, 0.1)) is Decision.CONTINUE


@pytest.mark.parametrize("state", [TrialState.FAIL, TrialState.PRUNED, TrialState.COMPLETE])
def test_fail_trials_are_ignored(state: TrialState) -> None:
    study = _study()
    for _ in range(3):
        strong = _trial_at(study, [(0.9, 0.9)])
        values = [0.9, 0.9] if state is TrialState.COMPLETE else None
        study.tell(strong, values, state=state)
    pruner = MOASHAPruner(min_trials=1)
    decision = pruner.should_stop(study, study.ask(), STEP_EVERY, (0.1, 0.1))
    assert decision is (Decision.CONTINUE if state is TrialState.FAIL else Decision.STOP)


def test_one_get_trials_per_rung_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    study = _study()
    for _ in range(3):
        _trial_at(study, [(0.9, 0.9)] * 3)
    me = _trial_at(study, [(0.1, 0.1)] * 2)
    calls = []
    real = study.get_trials

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(study, "get_trials", counting)
    pruner = MOASHAPruner()
    # The second evaluation is no rung: decided from the trial object alone.
    assert pruner.should_stop(study, me, 2 * STEP_EVERY, (0.1, 0.1)) is Decision.CONTINUE
    assert calls == []
    pruner.should_stop(study, me, 3 * STEP_EVERY, (0.1, 0.1))
    pruner.should_stop(study, me.number, 3 * STEP_EVERY, (0.1, 0.1))
    assert len(calls) == 2
    assert all(call["deepcopy"] is False for call in calls)


def test_pruner_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="reduction_factor"):
        MOASHAPruner(reduction_factor=1)
    with pytest.raises(ValueError, match="max_resource"):
        MOASHAPruner(min_resource=3, max_resource=2)


# A small asynchronous search: synthetic learning curves, the pruner asked at every evaluation.


def _curve(plateau: tuple[float, float], speed: float) -> list[tuple[float, float]]:
    """An increasing learning curve that approaches ``plateau``."""
    return [tuple(p * (1 - math.exp(-speed * t)) for p in plateau) for t in range(1, MAX_EVALS + 1)]


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and a != b


@dataclass
class _Search:
    """What the simulated workers did, kept apart from the study as the test's oracle."""

    recorded: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    stops: dict[int, int] = field(default_factory=dict)
    front_decisions: int = 0


def _simulate(
    curves: list[list[tuple[float, float]]], workers: int, pruner: MOASHAPruner
) -> tuple[optuna.Study, _Search]:
    """Run ``curves`` as trials, ``workers`` of them interleaved, as workers sharing a study do."""
    study = _study()
    search = _Search()
    pending = list(curves)
    running: list[tuple[optuna.Trial, list[tuple[float, float]]]] = []
    while pending or running:
        while pending and len(running) < workers:
            running.append((study.ask(), pending.pop(0)))
        trial, curve = running.pop(0)
        mine = search.recorded.setdefault(trial.number, [])
        values = curve[len(mine)]
        resource = len(mine) + 1
        at_rung = [
            seen[resource - 1]
            for number, seen in search.recorded.items()
            if number != trial.number and len(seen) >= resource
        ]
        add_evaluation(study, trial, resource * STEP_EVERY, values)
        mine.append(values)
        decision = pruner.should_stop(study, trial, resource * STEP_EVERY, values)
        if not any(_dominates(other, values) for other in at_rung):
            search.front_decisions += 1
            assert decision is Decision.CONTINUE, (trial.number, resource, values, at_rung)
        if decision is Decision.STOP:
            assert pruner.is_rung(resource)
            search.stops[trial.number] = resource
            study.tell(trial, state=TrialState.PRUNED)
        elif resource == MAX_EVALS:
            study.tell(trial, list(values))
        else:
            running.append((trial, curve))
    return study, search


@pytest.mark.parametrize("workers", [1, 4])
def test_search_stops_dominated_trials_and_saves_budget(workers: int) -> None:
    rng = random.Random(workers)
    good = [_curve((rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.9)), 0.5) for _ in range(6)]
    poor = [_curve((rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3)), 0.5) for _ in range(6)]
    curves = good + poor
    study, search = _simulate(curves, workers, MOASHAPruner(min_resource=1, reduction_factor=3))

    poor_numbers = range(len(good), len(curves))
    assert set(poor_numbers) <= set(search.stops), "every clearly dominated trial is stopped"
    assert all(search.stops[number] in (1, 3) for number in poor_numbers)
    budget = study_budget_saved(study, MAX_EVALS)
    assert budget["fraction_saved"] > 0
    assert budget["steps_spent"] == sum(len(seen) for seen in search.recorded.values())
    assert evaluations_run(study) == [len(search.recorded[t.number]) for t in study.trials]
    for trial in study.trials:
        first_objective = [values[0] for values in search.recorded[trial.number]]
        assert list(trial.intermediate_values.values()) == first_objective


def test_a_trial_on_its_rungs_pareto_front_is_never_stopped() -> None:
    rng = random.Random(2021)
    for run in range(6):
        curves = [
            _curve((rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)), rng.uniform(0.2, 1.5))
            for _ in range(12)
        ]
        pruner = MOASHAPruner(reduction_factor=rng.choice([2, 3]), min_trials=1)
        _, search = _simulate(curves, workers=1 + run % 3, pruner=pruner)
        assert search.front_decisions >= len(curves)
        assert search.stops, "random curves at eta <= 3 with min_trials=1 prune something"

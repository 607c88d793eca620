"""The pruners a worker asks at each evaluation: what they store, and MO-ASHA's decisions."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from search._attrs import EVALS_ATTR, set_trial_evals, trial_record
from search.pruning._evaluations import evals_of
from search.pruning._pruner import MOASHAPruner, NoPruner, make_pruner

optuna.logging.set_verbosity(optuna.logging.WARNING)

STEP = 50


def _study(tmp_path) -> optuna.Study:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    return optuna.create_study(directions=["maximize", "maximize"], storage=storage)


def _finished(study: optuna.Study, pruner: MOASHAPruner, points, state=TrialState.COMPLETE):
    trial = study.ask()
    for k, point in enumerate(points, start=1):
        pruner.keep_going(study, trial, k * STEP, point)
    set_trial_evals(trial, {str(k * STEP): list(p) for k, p in enumerate(points, 1)})
    study.tell(trial, list(points[-1]) if state == TrialState.COMPLETE else None, state=state)
    return trial


def test_moasha_publishes_all_objectives_at_rungs_only_and_curves_every_time(tmp_path):
    study = _study(tmp_path)
    pruner = MOASHAPruner(reduction_factor=3, min_resource=1)  # rungs at evaluations 1, 3, 9
    trial = study.ask()
    for k in range(1, 5):
        assert pruner.keep_going(study, trial, k * STEP, (10.0 * k, 5.0 * k))
        frozen = study._storage.get_trial(trial._trial_id)
        assert frozen.intermediate_values[k * STEP] == 10.0 * k  # live learning curve
        published = evals_of(frozen)
        # after evaluation 1 and 3 (rungs) the evaluations so far; in between, nothing new
        expected = {1: 1, 2: 1, 3: 3, 4: 3}[k]
        assert list(published) == [j * STEP for j in range(1, expected + 1)]
        assert published[STEP] == (10.0, 5.0)


def test_moasha_stops_a_dominated_trial_at_its_rung_counting_its_own_evaluations(tmp_path):
    study = _study(tmp_path)
    pruner = MOASHAPruner(reduction_factor=3, min_resource=1)
    for i in range(3):  # three finished trials that were strong at every evaluation
        _finished(study, pruner, [(80.0 + i, 60.0 + i)] * 4)
    weak = study.ask()
    # evaluation 1 is a rung: weak is dominated by all three, outside the top third
    assert not pruner.keep_going(study, weak, STEP, (1.0, 1.0))
    strong = study.ask()
    assert pruner.keep_going(study, strong, STEP, (99.0, 99.0))
    assert pruner.keep_going(study, strong, 2 * STEP, (1.0, 1.0))  # not a rung: never asked


def test_a_retried_trial_starts_its_own_evaluations(tmp_path):
    """A retry carries the dead trial's attributes (Optuna's retry callback and our lease copy
    them); its own first evaluation must count as resource 1, not after the dead one's."""
    study = _study(tmp_path)
    pruner = MOASHAPruner(reduction_factor=3, min_resource=1)
    first = study.ask()
    pruner.keep_going(study, first, STEP, (5.0, 5.0))
    stale = {str(k * STEP): [5.0, 5.0] for k in range(1, 3)}
    study.enqueue_trial(first.params, user_attrs={EVALS_ATTR: stale})
    retry = study.ask()
    assert retry.user_attrs[EVALS_ATTR] == stale
    pruner.keep_going(study, retry, 7 * STEP, (6.0, 6.0))  # its evaluation 1: a rung
    assert evals_of(study._storage.get_trial(retry._trial_id)) == {7 * STEP: (6.0, 6.0)}


def test_no_pruner_keeps_going_and_draws_the_curve_only(tmp_path):
    study = _study(tmp_path)
    trial = study.ask()
    for k in range(1, 4):
        assert NoPruner().keep_going(study, trial, k * STEP, (float(k), 0.5))
    frozen = study._storage.get_trial(trial._trial_id)
    assert frozen.intermediate_values == {STEP: 1.0, 2 * STEP: 2.0, 3 * STEP: 3.0}
    assert trial_record(frozen, EVALS_ATTR) is None  # written once, by the objective, at the end


def test_the_watcher_sees_each_trials_own_evaluations_while_it_goes_on(tmp_path):
    seen = []
    pruner = make_pruner("none", watcher=lambda study, trial, evals: seen.append(dict(evals)))
    study = _study(tmp_path)
    first, second = study.ask(), study.ask()
    pruner.keep_going(study, first, STEP, (1.23456, 2.0))
    pruner.keep_going(study, first, 2 * STEP, (3.0, 4.0))
    pruner.keep_going(study, second, STEP, (5.0, 6.0))
    assert seen == [
        {"50": [1.2346, 2.0]},  # as the study stores objective values
        {"50": [1.2346, 2.0], "100": [3.0, 4.0]},
        {"50": [5.0, 6.0]},  # a new trial starts its own
    ]


def test_a_stopped_trial_is_not_handed_to_the_watcher(tmp_path):
    seen = []
    pruner = make_pruner("moasha", watcher=lambda *args: seen.append(args[1].number))
    study = _study(tmp_path)
    for i in range(3):
        _finished(study, pruner, [(80.0 + i, 60.0 + i)] * 4)
    seen.clear()
    weak = study.ask()
    assert not pruner.keep_going(study, weak, STEP, (1.0, 1.0))
    assert seen == []


def test_a_rung_stops_nobody_until_it_holds_min_trials_results(tmp_path):
    """The grace of the first trials: with min_trials 5, the 5th result at a rung is the first
    that can be stopped, however weak the ones before it were."""
    study = _study(tmp_path)
    pruner = make_pruner("moasha", reduction_factor=3, min_resource=1, min_trials=5)
    for i in range(3):
        _finished(study, pruner, [(80.0 + i, 60.0 + i)] * 4)
    weak = study.ask()
    assert pruner.keep_going(study, weak, STEP, (1.0, 1.0))  # 4 results at rung 1: kept
    study.tell(weak, state=TrialState.PRUNED)
    weaker = study.ask()
    assert not pruner.keep_going(study, weaker, STEP, (0.5, 0.5))  # the 5th: stopped

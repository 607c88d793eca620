"""Why MO-ASHA stopped a trial: its standing at the rung, in the trial and its dashboard note."""

from __future__ import annotations

import optuna
from optuna_dashboard._note import get_note_from_system_attrs

from search._attrs import PRUNED_AT, PRUNED_REASON, set_trial_evals, trial_record
from search.pruning._pruner import MOASHAPruner
from search.pruning._why import standing

optuna.logging.set_verbosity(optuna.logging.WARNING)

STEP = 50


def test_standing_names_position_cut_and_dominators() -> None:
    others = [(3, (80.0, 60.0)), (5, (10.0, 90.0)), (7, (50.0, 50.0)), (8, (1.0, 1.0))]
    position, of, keep, dominators = standing((40.0, 40.0), others, [True, True], eta=3)
    assert (of, keep) == (5, 2)
    assert dominators == (3, 7)  # (10, 90) is better on one objective only
    assert position == 4  # behind the front of 3, 5 and 7, ahead of 8


def _study(tmp_path) -> optuna.Study:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    return optuna.create_study(directions=["maximize", "maximize"], storage=storage)


def test_a_stopped_trial_records_its_rung_position_and_dominators(tmp_path) -> None:
    study = _study(tmp_path)
    pruner = MOASHAPruner(reduction_factor=3, min_resource=1)  # rungs at evaluations 1, 3, 9
    for i in range(4):
        trial = study.ask()
        points = [(80.0 + i, 60.0 + i)] * 3
        set_trial_evals(trial, {str(k * STEP): list(p) for k, p in enumerate(points, 1)})
        study.tell(trial, list(points[-1]))
    weak = study.ask()
    assert pruner.keep_going(study, weak, STEP, (99.0, 99.0))
    assert pruner.keep_going(study, weak, 2 * STEP, (99.0, 99.0))
    assert not pruner.keep_going(study, weak, 3 * STEP, (70.0, 50.0))  # rung 1, evaluation 3

    frozen = study._storage.get_trial(weak._trial_id)
    at = trial_record(frozen, PRUNED_AT)
    assert at["rung"] == 1 and at["evaluation"] == 3 and at["step"] == 3 * STEP
    assert (at["position"], at["of"], at["keep"]) == (5, 5, 2)
    assert at["dominated_by"] == [0, 1, 2, 3]
    reason = frozen.user_attrs[PRUNED_REASON]
    assert reason.startswith("rung 1 (evaluation 3, step 150): 5 of 5, outside the top 2")
    assert reason.endswith("dominated by trials 0, 1, 2, 3")
    system = study._storage.get_study_system_attrs(study._study_id)
    note = get_note_from_system_attrs(system, weak._trial_id)["body"]
    assert "Rung** 1" in note and "trial 3" in note and "5 of 5" in note

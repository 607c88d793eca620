"""Trial records: written as system attributes, read through search._attrs, also from studies
that kept them as user attributes."""

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import (
    EVALS_ATTR,
    HPARAMS,
    MODEL,
    RECORD_PREFIX,
    RUN_ATTR,
    run_metrics,
    set_trial_record,
    trial_evals,
    trial_hparams,
    trial_record,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_a_record_is_a_system_attribute_read_by_the_running_and_the_finished_trial():
    study = optuna.create_study(directions=["maximize", "maximize"])
    trial = study.ask()
    set_trial_record(trial, EVALS_ATTR, {"10": [1.0, 2.0]})
    assert trial_evals(trial) == {"10": [1.0, 2.0]}  # the running trial sees its own write
    set_trial_record(trial, RUN_ATTR, {"metrics": {"micro_f1": 3.0}})
    study.tell(trial, [3.0, 4.0])
    frozen = study.trials[0]
    assert frozen.user_attrs == {}  # nothing for ``optuna trials`` to print
    assert frozen.system_attrs[RECORD_PREFIX + EVALS_ATTR] == {"10": [1.0, 2.0]}
    assert run_metrics(frozen) == {"micro_f1": 3.0}
    with pytest.raises(ValueError, match="not a trial record"):
        set_trial_record(study.ask(), MODEL, "tiny")  # short attributes stay user attributes


def test_records_kept_as_user_attributes_still_read_and_a_system_one_wins():
    older = {EVALS_ATTR: {"5": [1.0, 1.0]}, HPARAMS: {"learning_rate": 1e-4}}
    trial = optuna.trial.create_trial(state=TrialState.COMPLETE, values=[1.0], user_attrs=older)
    assert trial_evals(trial) == {"5": [1.0, 1.0]}
    assert trial_hparams(trial) == {"learning_rate": 1e-4}
    trial.system_attrs[RECORD_PREFIX + EVALS_ATTR] = {"7": [2.0, 2.0]}
    assert trial_evals(trial) == {"7": [2.0, 2.0]}
    assert trial_record(trial, "runtime", "none") == "none"

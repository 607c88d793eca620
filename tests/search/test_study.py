"""The worker's study: a trial whose set-up write hits a full disk is still known, and failed."""

from types import SimpleNamespace

import optuna
import pytest
from optuna.trial import TrialState

from search.attrs import FAIL_REASON
from search.study import SlotStudy
from search.worker import _stop_for_no_space
from storage.opening import open_storage
from storage.retry import StorageFull


class _DiskFullAfterCreation(optuna.samplers.RandomSampler):
    """A sampler whose first write after the trial exists fails as on a full disk."""

    def before_trial(self, study, trial):
        raise StorageFull("database or disk is full")


def slot_study(tmp_path, sampler=None) -> SlotStudy:
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    optuna.create_study(study_name="s", storage=storage, directions=["maximize", "maximize"])
    return SlotStudy(target=4, study_name="s", storage=storage, sampler=sampler)


def test_a_trial_whose_set_up_failed_on_a_full_disk_is_failed_not_left_running(tmp_path):
    study = slot_study(tmp_path, _DiskFullAfterCreation())
    with pytest.raises(StorageFull) as raised:
        study.ask()
    (trial,) = study.get_trials()
    assert trial.state == TrialState.RUNNING and study.asked == trial._trial_id
    objective = SimpleNamespace(trial_id=None, no_space=None)  # the objective never ran
    with pytest.raises(StorageFull):
        _stop_for_no_space(study, objective, raised.value)
    (trial,) = study.get_trials()
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[FAIL_REASON].startswith("storage: the disk is full or read-only")


def test_the_asked_trial_is_the_one_this_worker_started(tmp_path):
    study = slot_study(tmp_path)
    first = study.ask()
    study.tell(first, [1.0, 1.0])
    second = study.ask()
    assert study.asked == second._trial_id != first._trial_id

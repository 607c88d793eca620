"""The worker's study: trials start only in a free slot; a trial whose set-up write hits a full
disk is still known, and failed."""

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import FAIL_REASON
from search._outcome import failure
from search._quota import LAUNCH_ATTR, NoFreeSlot, Quota, SetUpFailed, ask_in_slot
from search._work import finish
from storage._opening import open_storage
from storage._retry import StorageFull


class _DiskFullAfterCreation(optuna.samplers.RandomSampler):
    """A sampler whose first write after the trial exists fails as on a full disk."""

    def before_trial(self, study, trial):
        raise StorageFull("database or disk is full")


def study_of(tmp_path, sampler=None) -> optuna.Study:
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    directions = ["maximize", "maximize"]
    return optuna.create_study(
        study_name="s", storage=storage, directions=directions, sampler=sampler
    )


def test_a_trial_whose_set_up_failed_on_a_full_disk_is_failed_not_left_running(tmp_path):
    study = study_of(tmp_path, _DiskFullAfterCreation())
    with pytest.raises(SetUpFailed) as raised:
        ask_in_slot(study, Quota(4))
    (trial,) = study.get_trials()
    assert trial.state == TrialState.RUNNING and raised.value.trial_id == trial._trial_id
    with pytest.raises(StorageFull) as full:
        finish(study, raised.value.trial_id, failure(raised.value.error), callbacks=[])
    assert full.value.left_running == {}
    (trial,) = study.get_trials()
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[FAIL_REASON].startswith("storage: database or disk is full")


def test_no_trial_starts_once_finished_and_running_ones_reach_the_target(tmp_path):
    study = study_of(tmp_path)
    quota = Quota(2)
    first = ask_in_slot(study, quota)
    study.tell(first, [1.0, 1.0])
    ask_in_slot(study, quota)
    with pytest.raises(NoFreeSlot):
        ask_in_slot(study, quota)
    assert len(study.trials) == 2


def test_each_launch_adds_its_own_trials_whenever_it_starts(tmp_path):
    """Two launches of 2 trials: the second, started after the first finished one, still adds
    its 2; a trial carries the launch that started it."""
    study = study_of(tmp_path)
    first, second = Quota(2), Quota(2)
    study.tell(ask_in_slot(study, first), [1.0, 1.0])
    for _ in range(2):
        study.tell(ask_in_slot(study, second), [1.0, 1.0])
    with pytest.raises(NoFreeSlot):
        ask_in_slot(study, second)
    study.tell(ask_in_slot(study, first), [1.0, 1.0])
    with pytest.raises(NoFreeSlot):
        ask_in_slot(study, first)
    assert first.counts(study) == (2, 0) and second.counts(study) == (2, 0)
    launches = [t.system_attrs[LAUNCH_ATTR] for t in study.get_trials()]
    assert launches == [first.launch, second.launch, second.launch, first.launch]
    assert Quota.from_text(first.to_text()) == first

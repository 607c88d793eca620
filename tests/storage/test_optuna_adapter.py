"""The adapter over Optuna's private names (``storage._optuna``) against the installed Optuna:
an upgrade that moves one of them fails here."""

import time

import optuna
from optuna.trial import TrialState

from storage import _optuna as adapter
from storage._opening import open_storage


def test_a_studys_storage_ids_and_cached_trial(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study = optuna.create_study(storage=storage, study_name="s", directions=["maximize"] * 2)
    trial = study.ask()
    assert adapter.storage_of(study).get_study_id_from_name("s") == adapter.study_id(study)
    assert adapter.trial_id(trial) == adapter.trial_id(study.trials[0])
    adapter.set_trial_system_attr(trial, "key", [1, 2])
    assert adapter.frozen(trial).system_attrs["key"] == [1, 2]  # the trial's own copy
    assert study.trials[0].system_attrs["key"] == [1, 2]  # and the storage
    adapter.set_intermediate_value(study, trial, 3, 0.5)  # refused by Trial.report here
    assert study.trials[0].intermediate_values == {3: 0.5}
    assert isinstance(adapter.unwrap(adapter.storage_of(study)), optuna.storages.RDBStorage)


def test_heartbeats_and_stale_trials(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1)
    study = optuna.create_study(storage=storage, study_name="s")
    assert adapter.has_heartbeat(adapter.storage_of(study))
    beaten, dead = study.ask(), study.ask()
    with adapter.heartbeat(adapter.storage_of(study), adapter.trial_id(beaten)):
        adapter.storage_of(study).record_heartbeat(adapter.trial_id(dead))
        deadline = time.monotonic() + 60
        while not adapter.stale_trial_ids(study):  # the dead one, past its grace period
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert adapter.stale_trial_ids(study) == [adapter.trial_id(dead)]
    assert not adapter.has_heartbeat(optuna.storages.InMemoryStorage())
    with adapter.heartbeat(optuna.storages.InMemoryStorage(), 0):  # a no-op without one
        pass
    assert study.trials[0].state == TrialState.RUNNING


def test_what_lies_under_a_journal_file(tmp_path):
    path = tmp_path / "journal.log"
    backend = optuna.storages.journal.JournalFileBackend(str(path))
    storage = optuna.storages.JournalStorage(backend)
    assert adapter.journal_backend(storage) is backend
    assert adapter.journal_file_path(backend) == str(path)

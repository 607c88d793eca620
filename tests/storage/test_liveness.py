import contextlib
import threading
import time
import uuid

import optuna
import pytest
from optuna.storages import fail_stale_trials
from optuna.storages._rdb import models
from optuna.trial import TrialState

from common._cli import UserError
from storage._liveness import LEASE_ATTR, Lease, Reaper, reap_expired, reap_stale
from storage._opening import open_storage


def running_trial(study, lease_until):
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    study._storage.set_trial_system_attr(trial._trial_id, LEASE_ATTR, lease_until)
    return trial


def journal_study(tmp_path):
    backend = optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.log"))
    return optuna.create_study(storage=optuna.storages.JournalStorage(backend))


def test_expired_lease_fails_the_trial_and_retries_its_parameters(tmp_path):
    study = journal_study(tmp_path)
    dead = running_trial(study, time.time() - 5)
    alive = running_trial(study, time.time() + 60)
    assert reap_expired(study) == [dead.number]
    trials = study.get_trials()
    assert trials[dead.number].state == TrialState.FAIL
    assert "lease" in trials[dead.number].user_attrs["fail_reason"]
    assert trials[alive.number].state == TrialState.RUNNING
    (retry,) = [t for t in trials if t.state == TrialState.WAITING]
    assert retry.params == trials[dead.number].params
    assert retry.system_attrs["failed_trial"] == dead.number
    asked = study.ask()  # the retry is what the next worker gets
    assert asked.number == retry.number


def test_two_reapers_retry_once_and_retries_are_bounded(tmp_path):
    study = journal_study(tmp_path)
    other_worker_view = optuna.load_study(study_name=study.study_name, storage=study._storage)
    running_trial(study, time.time() - 5)
    assert len(reap_expired(study) + reap_expired(other_worker_view)) == 1
    for _ in range(2):  # each retry dies too
        retry = study.ask()
        study._storage.set_trial_system_attr(retry._trial_id, LEASE_ATTR, time.time() - 1)
        reap_expired(study, max_retry=2)
    assert len([t for t in study.get_trials() if t.state == TrialState.WAITING]) == 0
    assert len(study.get_trials()) == 3  # the original and two retries


def test_lease_renews_while_the_trial_runs(tmp_path):
    study = journal_study(tmp_path)
    trial = study.ask()
    with Lease(study._storage, trial._trial_id, interval=0.2):
        first = study._storage.get_trial(trial._trial_id).system_attrs[LEASE_ATTR]
        time.sleep(0.7)
        later = study._storage.get_trial(trial._trial_id).system_attrs[LEASE_ATTR]
    assert later > first
    assert reap_expired(study, now=first - 1) == []


def test_reaper_retries_a_dead_workers_trial_while_others_train(tmp_path):
    """The background reaper, not the next trial's start, finds the stale trial."""
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1)
    study = optuna.create_study(storage=storage, study_name="r")
    dead = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    storage.record_heartbeat(dead._trial_id)  # then its worker dies
    with Reaper(study, every=0.5) as reaper:
        deadline = time.monotonic() + 120  # generous: the machine may be loaded
        while not reaper.reaped and time.monotonic() < deadline:
            time.sleep(0.1)
    assert reaper.reaped == [dead.number]
    failed, retry = study.get_trials()
    assert failed.user_attrs["fail_reason"].startswith("worker died: no heartbeat")
    assert retry.state == TrialState.WAITING and retry.params == failed.params


def test_reaper_uses_leases_on_a_journal(tmp_path):
    study = optuna.create_study(storage=open_storage(f"journal:///{tmp_path / 's.log'}"))
    dead = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    study._storage.set_trial_system_attr(dead._trial_id, LEASE_ATTR, time.time() - 1)
    assert reap_stale(study) == [dead.number]
    assert study.get_trials()[0].user_attrs["fail_reason"].startswith("worker died: its lease")


def test_optunas_stale_check_and_the_reaper_retry_a_stale_trial_once(tmp_path, monkeypatch):
    """Optuna's stale-trial check (``fail_stale_trials``, which every worker runs before a trial,
    with the retrying callback) and the reaper fail the same stale trial at the same moment: only
    the one whose write moved it from RUNNING to FAIL enqueues a retry."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    optuna_side = optuna.create_study(
        storage=open_storage(url, heartbeat_interval=1), study_name="s"
    )
    reaper_side = optuna.load_study(study_name="s", storage=open_storage(url, heartbeat_interval=1))
    dead = optuna_side.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    optuna_side._storage.record_heartbeat(dead._trial_id)  # then its worker dies
    backend = optuna_side._storage._backend
    deadline = time.monotonic() + 120  # generous: the machine may be loaded
    while not backend._get_stale_trial_ids(optuna_side._study_id):
        assert time.monotonic() < deadline, "the trial never went stale"
        time.sleep(0.1)
    # the worst interleaving: each side reads the trial as RUNNING before either writes (where a
    # side reads before it writes; it gives up waiting for the other after a few seconds)
    both_read = threading.Barrier(2, timeout=5)
    find = models.TrialModel.find_or_raise_by_id.__func__

    def find_then_wait(cls, trial_id, session, for_update=False):
        found = find(cls, trial_id, session, for_update)
        if for_update:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
        return found

    monkeypatch.setattr(models.TrialModel, "find_or_raise_by_id", classmethod(find_then_wait))
    start = threading.Barrier(2)

    def together(check):
        start.wait()
        check()

    threads = [
        threading.Thread(target=together, args=(lambda: fail_stale_trials(optuna_side),)),
        threading.Thread(target=together, args=(lambda: reap_stale(reaper_side),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed, *retries = optuna_side.get_trials()
    assert failed.state == TrialState.FAIL
    assert failed.user_attrs["fail_reason"].startswith("worker died: no heartbeat")
    assert [t.state for t in retries] == [TrialState.WAITING]
    assert retries[0].system_attrs["failed_trial"] == dead.number


@pytest.fixture(params=["journal", "redis"])
def lease_storage_url(request, tmp_path):
    """A storage without Optuna's heartbeat: a journal file, or a journal on Redis (a fresh key
    prefix) where a server answers."""
    if request.param == "journal":
        return f"journal:///{tmp_path / 's.log'}"
    url = f"redis://127.0.0.1:6379/0?prefix=lease-{uuid.uuid4().hex[:8]}"
    try:
        open_storage(url)
    except UserError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    return url


def test_a_trial_that_never_got_a_lease_is_retried_a_grace_period_after_its_start(
    lease_storage_url,
):
    """Its worker died, or lost the storage, between creating the trial and writing its lease:
    nothing would ever expire, so the time since its start decides."""
    study = optuna.create_study(storage=open_storage(lease_storage_url))
    dead = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    assert reap_stale(study, lease_grace=60) == []  # it may still be about to write its lease
    with Reaper(study, every=0.5) as reaper:  # stale 1 s after its start
        deadline = time.monotonic() + 120  # generous: the machine may be loaded
        while not reaper.reaped and time.monotonic() < deadline:
            time.sleep(0.1)
    assert reaper.reaped == [dead.number]
    failed, retry = study.get_trials()
    assert failed.user_attrs["fail_reason"].startswith("worker died: no lease 1 s after")
    assert retry.state == TrialState.WAITING and retry.params == failed.params

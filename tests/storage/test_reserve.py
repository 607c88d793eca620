"""The room a search keeps beside a SQLite database or journal file for its last writes."""

import fcntl
import os

import optuna
from optuna.trial import TrialState

from storage._opening import open_storage
from storage._reserve import (
    RESERVE_BYTES,
    drop_reserve,
    fail_left_running,
    keep_reserve,
    release_reserve,
    reserve_path,
)


def test_the_reserve_is_allocated_beside_local_files_only(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    path = keep_reserve(url)
    assert path == tmp_path / "s.db.reserve"
    assert path.stat().st_size == RESERVE_BYTES
    assert path.stat().st_blocks * 512 >= RESERVE_BYTES  # on disk, not a sparse file
    assert keep_reserve(url) == path  # again: nothing changes
    assert reserve_path(f"journal:///{tmp_path / 'j.log'}") == tmp_path / "j.log.reserve"
    assert reserve_path("postgresql://u@h/db") is None
    assert reserve_path("sqlite:///:memory:") is None
    assert release_reserve(url) and not path.exists()
    assert not release_reserve(url)


def test_left_running_trials_are_failed_reason_first_and_finished_ones_kept(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=None)
    study = optuna.create_study(storage=storage, study_name="s")
    left = study.ask()
    done = study.ask()
    study.tell(done, 1.0)
    reasons = {left._trial_id: "storage: the disk is full", done._trial_id: "storage: full"}
    assert fail_left_running(storage, "s", reasons) == ([left._trial_id], [])
    first, second = study.get_trials()
    assert first.state == TrialState.FAIL
    assert first.user_attrs["fail_reason"] == "storage: the disk is full"
    assert second.state == TrialState.COMPLETE and "fail_reason" not in second.user_attrs


def test_the_last_launcher_to_end_removes_the_reserve(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    path = keep_reserve(url)
    other = os.open(path, os.O_RDONLY)  # another launcher on the same storage, still running
    fcntl.flock(other, fcntl.LOCK_SH)
    drop_reserve(url)
    assert path.exists()  # the other launcher still needs it
    os.close(other)  # it ended (or was killed): its lock is gone
    keep_reserve(url)
    drop_reserve(url)
    assert not path.exists()
    drop_reserve(url)  # nothing held: nothing to do


def test_releasing_the_reserve_gives_its_room_back_while_it_is_held(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    path = keep_reserve(url)  # held open by this launcher
    held = os.open(path, os.O_RDONLY)
    assert release_reserve(url) and not path.exists()
    assert os.fstat(held).st_blocks == 0  # the deleted file keeps no blocks
    os.close(held)
    drop_reserve(url)

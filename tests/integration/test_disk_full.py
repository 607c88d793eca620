"""A search whose disk fills up: one line, the running trial failed with that reason, no partial
artifact, the summary printed, nothing left RUNNING (with two workers too: a worker that cannot
write its trial's failure leaves it to the launcher, which has the reserve's room)."""

import contextlib
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import PREDICTIONS_ATTR, TEST_PREDICTIONS_ATTR, trial_record
from search.testing import RUNNER, fake_env
from storage._opening import open_storage
from storage._reading import open_existing
from tests.integration.conftest import server_missing

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path):
    """A 768 KiB tmpfs (root only; fails in CI rather than skip)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=768k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        server_missing(f"cannot mount a small tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_full_disk_fails_the_trial_with_a_reason_and_stops(small_disk, workers):
    url = f"sqlite:///{small_disk / 'study.db'}"
    artifacts = small_disk / "artifacts"
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--storage", url,
        "--study", "full", "--trials", "200", "--workers", str(workers),
        "--artifacts", str(artifacts), "--quiet",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=fake_env())
    assert done.returncode == 2, done.stderr
    # with several workers, each stopped worker's line comes prefixed "worker N: "
    errors = [line for line in done.stderr.splitlines() if "error: " in line]
    assert 1 <= len(errors) <= workers, done.stderr  # one line from each worker that stopped
    assert all("disk is full" in line for line in errors), done.stderr
    assert "Traceback" not in done.stderr
    assert "Pareto front" in done.stdout or "complete" in done.stdout  # the summary
    study = optuna.load_study(study_name="full", storage=open_storage(url, heartbeat_interval=None))
    trials = study.get_trials()
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert failed and "disk is full" in failed[-1].user_attrs.get("fail_reason", "")
    stored = {
        value
        for t in trials
        for name in (PREDICTIONS_ATTR, TEST_PREDICTIONS_ATTR)
        if (value := trial_record(t, name))
    }
    on_disk = {p.name for p in artifacts.iterdir()} if artifacts.exists() else set()
    assert on_disk <= stored, f"partial artifacts left: {on_disk - stored}"
    assert not (small_disk / "study.db.reserve").exists()  # the launcher took its reserve away


def test_a_study_on_a_full_disk_is_read(small_disk, tmp_path):
    url = f"sqlite:///{small_disk / 'study.db'}"
    study = optuna.create_study(
        study_name="full", storage=open_storage(url), directions=["maximize", "maximize"]
    )
    study.set_user_attr("objectives", ["micro_f1", "auprc"])
    for i in range(3):
        trial = study.ask()
        trial.suggest_float("learning_rate", 1e-5, 1e-4, log=True)
        study.tell(trial, [50.0 + i, 40.0 + i])
    del study
    with open(small_disk / "filler", "wb") as filler, contextlib.suppress(OSError):
        while True:  # the disk fills up
            filler.write(bytes(64 * 1024))
            filler.flush()
    cmd = [sys.executable, "-m", "search.report", "--storage", url, "--study", "full"]
    done = subprocess.run(
        [*cmd, "--out", str(tmp_path / "report")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report" / "report.md").is_file()
    trials = optuna.load_study(study_name="full", storage=open_existing(url)).get_trials()
    assert len(trials) == 3  # the dashboard opens it the same way

"""Launchers started together on one study: every one exits 0, the KLUE recipe runs once, and each
adds exactly its --trials (what "run the same command on other machines" does): 8 x 3 = 24."""

import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import BASELINE_ORIGIN, ORIGIN
from search._study import FINISHED
from search.testing import RUNNER, fake_env
from storage._opening import open_storage

pytestmark = pytest.mark.integration

LAUNCHERS = 8
TRIALS = 3


def _launch(url: str, study: str, *flags: str) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", url, "--study", study, "--trials", str(TRIALS), "--workers", "1", "--quiet",
        *flags,
    ]  # fmt: skip
    env = fake_env(seconds_per_eval=0.01)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _start_together(url: str, study: str, *flags: str) -> list[tuple[int, str]]:
    procs = [_launch(url, study, *flags) for _ in range(LAUNCHERS)]
    return [(p.wait(timeout=600), p.communicate()[1]) for p in procs]


def _check(url: str, study_name: str, results: list[tuple[int, str]], added: int = TRIALS) -> None:
    failed = [(code, err.strip().splitlines()[-1:]) for code, err in results if code != 0]
    assert not failed, f"{len(failed)} of {LAUNCHERS} launchers failed: {failed}"
    study = optuna.load_study(study_name=study_name, storage=open_storage(url))
    trials = study.get_trials()
    recipes = [t.number for t in trials if t.user_attrs.get(ORIGIN) == BASELINE_ORIGIN]
    assert recipes == [0]
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert sum(t.state in FINISHED for t in trials) == LAUNCHERS * added
    assert study.user_attrs["objectives"] == ["micro_f1", "auprc"]


def test_on_a_fresh_postgres_database(fresh_postgres_url):
    _check(fresh_postgres_url, "crowd", _start_together(fresh_postgres_url, "crowd"))


def test_on_a_fresh_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _check(url, "crowd", _start_together(url, "crowd"))


def test_on_a_fresh_journal_file(tmp_path):
    url = f"journal:///{tmp_path / 'fresh.log'}"
    _check(url, "crowd", _start_together(url, "crowd"))


def test_creating_a_new_study_in_an_existing_schema(postgres_url):
    """The race is in creating the study: launchers that only create it show it, faster."""
    open_storage(postgres_url)  # the schema exists; the study does not
    results = _start_together(postgres_url, "crowd-new", "--create-only")
    _check(postgres_url, "crowd-new", results, added=0)

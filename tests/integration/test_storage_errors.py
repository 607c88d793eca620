"""Bad storage input through the real command line: one line naming the cause, password masked,
exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys

import optuna
import pytest

from search.testing import RUNNER
from storage.opening import open_storage

pytestmark = pytest.mark.integration


def search_run(*flags: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "search.run", "--runner", RUNNER, "--workers", "1", "--quiet"]
    return subprocess.run([*cmd, *flags], capture_output=True, text=True, timeout=180)


def assert_one_line_exit_2(done: subprocess.CompletedProcess, *expected: str) -> None:
    assert done.returncode == 2, done.stderr
    # a run that got as far as reading the data names its label set first (a NOTICE line)
    lines = [line for line in done.stderr.splitlines() if " NOTICE " not in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    for text in expected:
        assert text in done.stderr


def test_an_unknown_postgres_role_is_named(postgres_url):
    url = postgres_url.replace("postgres@", "re_search_no_such_role:hunter2@", 1)
    done = search_run("--storage", url, "--trials", "1")
    assert_one_line_exit_2(
        done, "re_search_no_such_role:***@", 'role "re_search_no_such_role" does not exist'
    )


def test_a_postgres_driver_that_is_not_installed_is_named(postgres_url):
    if _installed("pg8000"):
        pytest.skip("pg8000 is installed here")
    url = postgres_url.replace("postgresql://postgres@", "postgresql+pg8000://postgres:hunter2@", 1)
    done = search_run("--storage", url, "--trials", "1")
    assert_one_line_exit_2(done, "postgres:***@", "pip install pg8000")


def test_a_study_with_other_directions_is_refused_untouched(postgres_url):
    storage = open_storage(postgres_url, heartbeat_interval=None, pool_size=1)
    study = optuna.create_study(
        storage=storage, study_name="minimized", directions=["minimize", "minimize"]
    )
    study.set_user_attr("objectives", ["micro_f1", "auprc"])
    done = search_run("--storage", postgres_url, "--study", "minimized", "--trials", "1")
    assert_one_line_exit_2(done, "--study minimized: exists with directions minimize, minimize")
    assert optuna.load_study(study_name="minimized", storage=storage).trials == []
    storage.engine.dispose()


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None

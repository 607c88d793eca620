"""Bad storage input through the real command line: one line naming the cause, password masked,
exit code 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from search.testing import RUNNER
from storage._opening import open_storage

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


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_a_file_storage_in_a_missing_folder_is_one_line_and_creates_nothing(tmp_path, scheme):
    missing = tmp_path / "nonexistent" / "dir"
    done = search_run("--storage", f"{scheme}:///{missing / 'x.db'}", "--trials", "1")
    assert_one_line_exit_2(done, f"the folder {missing} does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_the_first_line_names_a_file_storage_by_its_absolute_path(tmp_path):
    cmd = [sys.executable, "-m", "search.run", "--runner", RUNNER, "--create-only"]
    done = subprocess.run(
        [*cmd, "--storage", "journal:///s.log", "--study", "s"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"study s ready in journal:///s.log ({tmp_path / 's.log'})")


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None

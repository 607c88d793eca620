"""The dashboard while a search runs: the live learning curves show a RUNNING trial, and a
pruned trial's note says at which rung it was stopped and which trials dominated it.

A real ``search.run`` process (the fake trial, slowed down per evaluation), optuna-dashboard and
headless Chromium; the page is reloaded until the search has got that far.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.analysis.curves import GRAPH_ID
from search.attrs import trial_record
from search.testing import RUNNER, fake_env
from storage.opening import open_storage
from tests.integration.test_dashboard import (
    WAIT_S,
    _chrome,
    _dashboard,
    _graph_traces,
    _require_browser,
)

pytestmark = pytest.mark.integration
STUDY = "live"


def _start_search(tmp_path, storage: str) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--trials", "40",
        "--storage", storage, "--study", STUDY, "--workers", "1", "--live-every", "0.5",
        "--seed", "0", "--quiet",
    ]  # fmt: skip
    log = open(tmp_path / "search.log", "w", encoding="utf-8")  # noqa: SIM115 (closed by the OS)
    env = fake_env(seconds_per_eval=0.25)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)


def _running_curves(driver) -> list[str]:
    driver.refresh()
    traces = _graph_traces(driver).get(f"user-defined-plot:{GRAPH_ID}", [])
    return [label for label, points in traces if "(running)" in label and points >= 1]


def _pruned(storage: str) -> optuna.trial.FrozenTrial | None:
    study = optuna.load_study(study_name=STUDY, storage=open_storage(storage))
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    return pruned[0] if pruned else None


def test_live_curves_and_why_a_trial_was_pruned(tmp_path):
    _require_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = _start_search(tmp_path, storage)
    try:
        study_id = _wait_for(lambda: _study_id(storage), search)  # the schema is search.run's
        with _dashboard(storage, tmp_path / "dashboard.log") as base, _chrome() as driver:
            wait = WebDriverWait(driver, WAIT_S * 4, poll_frequency=1.0)
            driver.get(f"{base}/dashboard/studies/{study_id}")
            running = wait.until(_running_curves)
            assert running and search.poll() is None  # seen while the search runs
            pruned = wait.until(lambda _: _pruned(storage))
            driver.get(f"{base}/dashboard/studies/{study_id}/trials?numbers={pruned.number}")
            body = (By.TAG_NAME, "body")
            wait.until(ec.text_to_be_present_in_element(body, "Dominated by"))
            text = driver.find_element(*body).text
            at = trial_record(pruned, "pruned_at")
            assert f"Rung {at['rung']}: evaluation {at['evaluation']}" in text
            assert f"{at['position']} of {at['of']} results" in text
            assert all(f"trial {n}" in text for n in at["dominated_by"])
    finally:
        search.send_signal(signal.SIGINT)
        search.wait(timeout=120)


def _wait_for(found, search: subprocess.Popen):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and search.poll() is None:
        value = found()
        if value is not None:
            return value
        time.sleep(0.2)
    pytest.fail(f"the search (exit code {search.poll()}) made no study in {WAIT_S} s")


def _study_id(storage: str) -> int | None:
    if not storage.startswith("sqlite:///") or not Path(storage[10:]).exists():
        return None  # opening it first would race search.run in creating the schema
    try:
        study_id = open_storage(storage).get_study_id_from_name(STUDY)
        optuna.load_study(study_name=STUDY, storage=storage).trials[0]  # the recipe is in
        return study_id
    except (KeyError, IndexError, optuna.exceptions.StorageInternalError):
        return None

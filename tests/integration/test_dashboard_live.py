"""The dashboard while a search runs: the live learning curves show a RUNNING trial, and a
pruned trial's note says at which rung it was stopped and which trials dominated it.

A real ``search.run`` process (the fake trial, slowed down per evaluation), optuna-dashboard and
headless Chromium; the page is reloaded until the search has got that far.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import trial_record
from search.analysis._curves import GRAPH_ID, RUNNING_ID
from search.testing import RUNNER, fake_env
from storage._opening import open_storage
from tests.integration.test_dashboard import (
    WAIT_S,
    _chrome,
    _dashboard,
    _free_port,
    _graph_traces,
    _require_browser,
    _wait_until_up,
)

pytestmark = pytest.mark.integration
STUDY = "live"
ROOT = Path(__file__).resolve().parents[2]


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


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "bench"))  # its own `import harness`
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


def test_running_curves_are_at_most_one_evaluation_behind(tmp_path):
    """Measured from outside, as bench/live_lag.py does: two workers, an evaluation every 0.5 s,
    the storage polled every 0.05 s. First evaluations (trials under a second old) included."""
    result = _bench("live_lag").run(2, 6, 0.5, 0.05, tmp_path)
    assert result["evaluations"] >= 6, result
    assert result["worst_evaluations_behind"] <= 1, result
    assert result["never_plotted"] == 0, result
    for key in ("first_evaluation_s", "later_evaluations_s"):
        assert result[key]["n"] == 0 or result[key]["max"] < 0.5, result  # within an evaluation
    assert result["trial_end_to_dropped_s"]["n"] >= 6, result
    assert result["trial_end_to_dropped_s"]["max"] < 1.0, result  # within a dashboard refresh


def test_search_dashboard_shows_the_running_trials_first(tmp_path):
    """search.dashboard's study page: the running trials' card at the top, full width."""
    _require_browser()
    from selenium.webdriver.support.ui import WebDriverWait

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = _start_search(tmp_path, storage)
    port = _free_port()
    log = tmp_path / "search-dashboard.log"
    try:
        study_id = _wait_for(lambda: _study_id(storage), search)
        with open(log, "w", encoding="utf-8") as out:
            command = [sys.executable, "-m", "search.dashboard", "--storage", storage]
            dashboard = subprocess.Popen(
                [*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
            )
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/api/studies", dashboard, log)
            with _chrome() as driver:
                driver.set_window_size(1400, 1000)
                wait = WebDriverWait(driver, WAIT_S * 4, poll_frequency=1.0)
                driver.get(f"http://127.0.0.1:{port}/dashboard/studies/{study_id}")
                card = f"user-defined-plot:{RUNNING_ID}"
                wait.until(lambda d: _graph_traces(d).get(card))
                box = driver.execute_script(_BOX, card)
                assert box["top"] < 200 and box["width"] > 0.8 * box["page"], box
                driver.save_screenshot(str(tmp_path / "live.png"))
        finally:
            dashboard.terminate()
            dashboard.wait(timeout=30)
    finally:
        search.send_signal(signal.SIGINT)
        search.wait(timeout=120)


_BOX = """const r = document.getElementById(arguments[0]).getBoundingClientRect();
return {top: r.top + window.scrollY, width: r.width, page: document.body.clientWidth};"""

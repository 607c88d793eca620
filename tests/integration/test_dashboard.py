"""The dashboard in a real browser: a real small search, optuna-dashboard, headless Chromium.

What an engineer sees after ``python -m search.run``: the study, its trial count, both objectives,
the learning curves of every objective (the project's user-defined plot, since Optuna's
intermediate values hold only one objective) and the Pareto front. Set
``RE_SEARCH_SCREENSHOT=docs/dashboard.png`` to write the screenshot there (the README's picture);
by default it goes to the test's temporary directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from objectives.data._sample_data import generate, write_sample
from search.analysis._curves import GRAPH_ID
from storage._opening import open_storage
from storage._urls import artifact_dir_for
from tests.integration.conftest import server_missing

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STUDY = "dashboard"
WAIT_S = 45
# A closed network: without these Chromium keeps dialling update and sync servers.
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
SPACE = """
[learning_rate]
low = 5e-4
high = 3e-3
log = true

[num_train_epochs]
value = 1

[per_device_train_batch_size]
choices = [16, 32]

[max_len]
value = 64

[pooling]
choices = ["cls", "entity_start"]
"""
# Every plotly graph on the page: its element id, and for each trace its hover label (the
# dashboard's Pareto plot names its non-dominated trace "Best Trial" there) and point count.
_GRAPHS_JS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(
    e => [e.id, (e.data || []).map(t => [t.hovertemplate || '', (t.x || []).length])]);
"""


def _require_browser() -> None:
    """Skip locally, fail in CI, when Chromium, its driver or selenium is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (pip install -e .[dev])")
    if missing:
        server_missing(f"no browser for the dashboard test: {', '.join(missing)} missing")


def _run_search(tmp_path: Path, storage: str) -> None:
    write_sample(tmp_path / "data", generate(seed=3, sizes={"train": 192, "dev": 64, "test": 32}))
    (tmp_path / "space.toml").write_text(SPACE)
    proc = subprocess.run(
        [
            sys.executable, "-m", "search.run", "--trials", "4", "--storage", storage,
            "--study", STUDY, "--train", str(tmp_path / "data" / "train.csv"),
            "--dev", str(tmp_path / "data" / "dev.json"), "--space", str(tmp_path / "space.toml"),
            "--cache-dir", str(tmp_path / "cache"), "--evals-per-epoch", "2", "--seed", "0",
            "--quiet",
        ],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dashboard_command() -> str:
    """The console script installed next to this interpreter (the package has no __main__)."""
    script = Path(sys.executable).parent / "optuna-dashboard"
    found = str(script) if script.exists() else shutil.which("optuna-dashboard")
    if found is None:
        pytest.fail("optuna-dashboard is not installed (it is a dependency of this project)")
    return found


@contextmanager
def _dashboard(storage: str, log: Path) -> Iterator[str]:
    """optuna-dashboard on a free local port, as the run's closing line tells the user to start
    it; yields its base URL once it answers, and is always stopped afterwards."""
    port = _free_port()
    command = [
        _dashboard_command(), storage, "--host", "127.0.0.1",
        "--port", str(port), "--artifact-dir", str(artifact_dir_for(storage)),
    ]  # fmt: skip
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/studies", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text()[-2000:]
            pytest.fail(f"optuna-dashboard exited with {proc.returncode}: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"optuna-dashboard did not answer {url} in {WAIT_S} s: {log.read_text()[-2000:]}")


@contextmanager
def _chrome() -> Iterator[object]:
    """Headless Chromium with a fresh profile, quit afterwards whatever happened."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="re-search-chrome-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def _graph_traces(driver) -> dict[str, list[tuple[str, int]]]:
    """Rendered plotly graphs by element id: (hover template, number of points) per trace."""
    return {key: [tuple(t) for t in traces] for key, traces in driver.execute_script(_GRAPHS_JS)}


def _pareto_points(traces: list[tuple[str, int]]) -> int:
    return sum(n for label, n in traces if "<extra>Best Trial</extra>" in label)


def _screenshot(driver, tmp_path: Path, last: str) -> Path:
    """The study page from the top down to the element ``last`` (the learning curves), in one
    picture: the window grows to that height first, leaving out the attribute tables below."""
    target = Path(os.environ.get("RE_SEARCH_SCREENSHOT") or tmp_path / "dashboard.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    bottom = driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return r.bottom + window.scrollY;",
        last,
    )
    driver.set_window_size(1400, min(int(bottom) + 200, 4000))
    time.sleep(1.0)  # plotly relayouts on resize
    assert driver.save_screenshot(str(target)), target
    return target


def test_dashboard_shows_the_search(tmp_path):
    _require_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    _run_search(tmp_path, storage)
    opened = open_storage(storage)
    study = optuna.load_study(study_name=STUDY, storage=opened)
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert 4 <= len(finished) <= 5  # two workers may both start the last trial
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    study_id = opened.get_study_id_from_name(STUDY)

    with _dashboard(storage, tmp_path / "dashboard.log") as base, _chrome() as driver:
        wait = WebDriverWait(driver, WAIT_S)
        driver.get(f"{base}/dashboard/studies/{study_id}")
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), f"{STUDY} (id="))
        pareto = (By.ID, "graph-pareto-front")
        curves = (By.ID, f"user-defined-plot:{GRAPH_ID}")
        wait.until(ec.presence_of_element_located(pareto))
        wait.until(ec.presence_of_element_located(curves))
        # Presence is not enough: plotly fills .data only once the study's values arrived.
        wait.until(lambda d: _pareto_points(_graph_traces(d).get(pareto[1], [])) >= 1)
        wait.until(lambda d: len(_graph_traces(d).get(curves[1], [])) >= 2)
        graphs = _graph_traces(driver)
        assert _pareto_points(graphs[pareto[1]]) == len(study.best_trials), graphs
        # one curve per objective for every trial that evaluated at least once
        curve_points = [n for _, n in graphs[curves[1]]]
        assert len(curve_points) % 2 == 0 and min(curve_points) >= 1, graphs
        text = driver.find_element(By.TAG_NAME, "body").text
        for expected in ("Pareto Front", "micro_f1", "auprc", "Learning curves of every objective"):
            assert expected in text, expected
        shot = _screenshot(driver, tmp_path, curves[1])

        driver.get(f"{base}/dashboard/studies/{study_id}/trials")
        wait.until(
            ec.text_to_be_present_in_element((By.TAG_NAME, "body"), f"{len(study.trials)} Trials")
        )
        text = driver.find_element(By.TAG_NAME, "body").text
        pruned = len(finished) - len(complete)
        assert text.count("Complete") >= len(complete) and text.count("Pruned") >= pruned
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one

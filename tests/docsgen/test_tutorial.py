"""The tutorial, run as written: every command of its shell blocks in order, in a scratch
directory with this environment's interpreter first on PATH and the repository on PYTHONPATH
(what ``scripts/setup.sh`` and the clone's root give a reader). The set-up block, marked on the
page, is the one not run: the test runs inside the environment it made. The dashboard, a server,
runs until it answers on a free port."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from docsgen.checks import FENCE
from docsgen.sources import DOCS, ROOT

pytestmark = pytest.mark.slow

TUTORIAL = DOCS / "tutorial.md"
NOT_RUN = "<!-- tutorial-test: not run"


def tutorial_blocks() -> list[str]:
    """The shell blocks of the tutorial that the test runs, in order."""
    text = TUTORIAL.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        if match.group(1) == "bash" and not before.startswith(NOT_RUN):
            blocks.append(match.group(2))
    return blocks


def commands(block: str) -> list[str]:
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def _env() -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_until_it_answers(command: str, cwd: Path) -> None:
    port = _free_port()
    command = re.sub(r"--port \d+", f"--port {port}", command)
    log = cwd / "dashboard.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, shell=True, cwd=cwd, env=_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"{command} exited: {log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        pytest.fail(f"{command} did not answer in 120 s: {log.read_text()[-2000:]}")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_the_tutorial_runs_as_written(tmp_path):
    ran = []
    for block in tutorial_blocks():
        for command in commands(block):
            if "search.dashboard" in command:
                _serve_until_it_answers(command, tmp_path)
            else:
                proc = subprocess.run(command, shell=True, cwd=tmp_path, env=_env(),
                                      capture_output=True, text=True, timeout=900)  # fmt: skip
                assert proc.returncode == 0, f"{command}\n{proc.stderr[-3000:]}"
                last = proc.stdout
            ran.append(command)
    assert any("search.final" in c for c in ran) and any("search.ensemble" in c for c in ran)
    for written in ("reports/tiny/report.md", "ensembles/fake/submission.csv",
                    "final/tiny/submission.csv"):  # fmt: skip
        assert (tmp_path / written).is_file(), written
    scores = json.loads(last)  # the last command scores the k-fold submission
    assert 0 <= scores["micro_f1"] <= 100, scores


def test_the_set_up_block_is_the_only_one_left_out():
    text = TUTORIAL.read_text(encoding="utf-8")
    assert text.count(NOT_RUN) == 1
    runs = [c for block in tutorial_blocks() for c in commands(block)]
    assert runs[0].startswith("python -m objectives.sample") and len(runs) >= 8
    assert (ROOT / "scripts/setup.sh").is_file()

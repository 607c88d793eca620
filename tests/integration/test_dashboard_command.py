"""The "Watch it" commands search.run prints, run as printed: ``search.dashboard`` (every storage)
and the stock ``optuna-dashboard`` command where there is one, each serving the study."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import optuna
import pytest

from search._watch import watch_commands
from storage._opening import open_storage
from tests.integration.test_dashboard import _free_port, _wait_until_up

pytestmark = pytest.mark.integration
STUDY = "watched"


def _study(url: str) -> None:
    study = optuna.create_study(
        study_name=STUDY, storage=open_storage(url), directions=["maximize"]
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)


def _served_studies(command: str, tmp_path: Path) -> list[str]:
    """Run a printed command (``python`` as this interpreter) on a free port; the study names
    its server lists."""
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    else:
        argv[0] = str(Path(sys.executable).parent / argv[0])
    port = _free_port()
    log = tmp_path / f"{port}.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api/studies"
        _wait_until_up(url, proc, log)
        with urllib.request.urlopen(url, timeout=10) as response:
            return [s["study_name"] for s in json.load(response)["study_summaries"]]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_journal_file_study_is_served_by_both_printed_commands(tmp_path):
    url = "journal:///searches.log"
    (tmp_path / "searches.log").touch()
    _study(f"journal:///{tmp_path / 'searches.log'}")
    commands = [line.removeprefix("or: ") for line in watch_commands(url, None)]
    assert len(commands) == 2 and commands[1] == "optuna-dashboard searches.log"
    for command in commands:
        assert _served_studies(command, tmp_path) == [STUDY], command


def test_a_redis_study_with_a_prefix_is_served(redis_url, tmp_path):
    _study(redis_url)
    commands = watch_commands(redis_url, None)
    assert len(commands) == 1  # the stock tool cannot take the key prefix
    assert _served_studies(commands[0], tmp_path) == [STUDY]

"""Optuna's own tables stay readable: ``optuna studies`` prints one short row per study."""

import subprocess
import sys
from pathlib import Path

import optuna

from search.attrs import study_attrs
from search.run import main
from tests.fakes.runner import RUNNER

CLI = Path(sys.executable).parent / "optuna"


def test_optuna_studies_rows_are_short_and_the_metadata_is_kept(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    flags = ["--runner", RUNNER, "--storage", storage, "--trials", "4", "--workers", "1"]
    assert main([*flags, "--quiet", "--hypothesis", "focal_gamma > 0.5 improves f1"]) == 0
    table = subprocess.run(
        [str(CLI), "studies", "--storage", storage], capture_output=True, text=True, check=True
    ).stdout
    rows = table.splitlines()
    assert len(rows) == 5 and "micro_f1" in rows[3]  # a header, the study, its objectives
    study = optuna.load_study(study_name=None, storage=storage)
    # the artifact store's location stays visible; here it is pytest's long temporary path
    location = len(study.user_attrs["artifacts"])
    assert max(len(row) for row in rows) < 180 + location, table
    recorded = study_attrs(study)
    assert len(recorded["data"]["labels"]["names"]) == 30 and recorded["space"]
    assert recorded["hypotheses"][0]["text"] == "focal_gamma > 0.5 improves f1"

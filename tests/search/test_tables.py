"""Optuna's own tables stay readable: ``optuna studies`` and ``optuna trials`` print short rows."""

import subprocess
import sys
from pathlib import Path

import optuna
from optuna.trial import TrialState

from search._attrs import study_attrs, trial_evals, trial_hparams, trial_record, trial_run
from search.run import main
from search.testing import RUNNER

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


def _columns(table: str) -> dict[str, int]:
    """Each column's width in an ``optuna`` table, by its header."""
    border, header = table.splitlines()[:2]
    widths = [len(cell) for cell in border.strip("+").split("+")]
    names = [cell.strip() for cell in header.strip("|").split("|")]
    return dict(zip(names, widths, strict=True))


def test_optuna_trials_rows_are_short_and_the_records_are_kept(tmp_path):
    """``optuna trials`` prints every user attribute: they hold only short values (model,
    worker, origin, a reason), and the runs' records stay readable through search._attrs."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    flags = ["--runner", RUNNER, "--storage", storage, "--trials", "12", "--workers", "1"]
    assert main([*flags, "--quiet", "--study", "t"]) == 0
    table = subprocess.run(
        [str(CLI), "trials", "--storage", storage, "--study-name", "t"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = table.splitlines()
    assert len(rows) == 12 + 4 and "PRUNED" in table  # borders, a header, one row per trial
    widths = _columns(table)
    assert widths["user_attrs"] < 200, table
    # the stock columns (params and values as Optuna prints them) are most of what is left
    assert max(len(row) for row in rows) < widths["params"] + 340, table
    study = optuna.load_study(study_name="t", storage=storage)
    complete = next(t for t in study.trials if t.state == TrialState.COMPLETE)
    assert trial_hparams(complete) and trial_run(complete)["steps"] > 0
    assert trial_evals(complete) and trial_record(complete, "runtime")["threads"] >= 1

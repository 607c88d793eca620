"""The search's side of artifact locations: the study's record, readers that use it, the
dashboard's choice, and the dashboard's image needs."""

from __future__ import annotations

import subprocess
import sys

import optuna
import pytest

from common._cli import UserError
from search._study_artifacts import location_for_search, reader_store, save_location
from search.dashboard import choose_location
from storage._artifacts import ARTIFACTS_ATTR


def test_the_study_records_its_location_and_readers_use_it(tmp_path, caplog):
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="s", storage=storage)
    first = tmp_path / "first"
    assert location_for_search(None, storage, "s", "memory:") == "artifacts"
    save_location(study, str(first))
    assert study.user_attrs[ARTIFACTS_ATTR] == str(first)
    assert location_for_search(None, storage, "s", "memory:") == str(first)
    save_location(study, "s3://other/p")  # a launcher storing elsewhere is told
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1 and "records its artifacts in " + str(first) in warned[0].getMessage()
    assert study.user_attrs[ARTIFACTS_ATTR] == str(first)
    first.mkdir()
    (first / "a").write_text("x")
    assert reader_store(None, study, "memory:").open_reader("a").read() == b"x"


def test_the_dashboard_refuses_to_guess_between_two_recorded_stores(tmp_path):
    storage = optuna.storages.InMemoryStorage()
    for name, where in (("a", "/runs/a"), ("b", "/runs/b"), ("c", None)):
        study = optuna.create_study(study_name=name, storage=storage)
        if where:
            study.set_user_attr(ARTIFACTS_ATTR, where)
    with pytest.raises(UserError, match=r"record different artifact stores \(/runs/a, /runs/b\)"):
        choose_location(None, storage, "memory:")
    assert choose_location("s3://b/p", storage, "memory:") == "s3://b/p"


def test_the_dashboard_command_runs_without_torch():
    """It runs from a slim image with only optuna, optuna-dashboard and the storage drivers."""
    code = (
        "import sys, search.dashboard, optuna_dashboard; "
        "heavy = {'torch', 'transformers', 'accelerate'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]

"""A study written by version 0.1.0 (tests/data/study-0.1.0.db.gz: search.run with the fake
trial, 6 trials, one hypothesis) still opens, reports and gives its configs back."""

import gzip
import json
import shutil
from pathlib import Path

import optuna
from optuna.trial import TrialState

from objectives._hparams import hparams_from_mapping
from search.report import main as report

STUDY = Path(__file__).resolve().parents[1] / "data" / "study-0.1.0.db.gz"


def opened(tmp_path: Path) -> str:
    db = tmp_path / "study.db"
    with gzip.open(STUDY, "rb") as src, db.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return f"sqlite:///{db}"


def test_an_old_study_reports_with_its_front_baseline_and_hypothesis(tmp_path):
    storage = opened(tmp_path)
    out = tmp_path / "report"
    assert report(["--storage", storage, "--study", "compat", "--out", str(out), "--no-png"]) == 0
    text = (out / "report.md").read_text()
    assert "| 4 | 2 | 0 | 0 | 0 |" in text  # complete, pruned, fail, running, waiting
    assert "Trial 0 (complete): micro_f1 51.03, auprc 51.07" in text
    assert "focal_gamma > 0.5 improves f1" in text
    best = json.loads((out / "best_f1.json").read_text())
    assert best["trial"] == 4 and best["model"] == "tiny"
    assert hparams_from_mapping(best["hparams"], "best_f1.json").focal_gamma > 0


def test_an_old_study_keeps_its_attributes_readable(tmp_path):
    study = optuna.load_study(study_name="compat", storage=opened(tmp_path))
    assert study.metric_names == ["micro_f1", "auprc"]
    assert study.user_attrs["data"]["labels"]["no_relation"] == "no_relation"
    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(trials) == 6
    assert trials[0].user_attrs["origin"] == "KLUE paper recipe"
    assert all("run" in t.user_attrs and "evals" in t.user_attrs for t in trials)

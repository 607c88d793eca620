"""The live figure and study note a worker publishes while trials run, and their bounded cost."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna_dashboard._custom_plot_data import get_plotly_graph_objects
from optuna_dashboard._note import get_note_from_system_attrs

from search.analysis.curves import GRAPH_ID
from search.attrs import EVALS_ATTR, HYPOTHESES, set_trial_record
from search.config import DataFiles, Deployment, SearchConfig, SearchPlan
from search.live import LiveStopper, LiveView
from search.pruning.stoppers import NeverStop

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _setup(tmp_path, every: float):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(directions=["maximize"] * 2, storage=storage, study_name="s")
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        study.set_metric_names(["micro_f1", "auprc"])
    study.set_user_attr(HYPOTHESES, [{"text": "lr > 1e-4 helps f1", "from_trial": 0}])
    config = SearchConfig(
        SearchPlan(trials=4, model="tiny"),
        DataFiles(train="t", dev="d"),
        Deployment(storage=storage, study="s"),
    )
    view = LiveView(config, every=every)
    return study, view, LiveStopper(NeverStop(), view)


def _figure(study: optuna.Study) -> dict:
    system = study._storage.get_study_system_attrs(study._study_id)
    return json.loads(get_plotly_graph_objects(system)[GRAPH_ID])


def test_a_running_trial_is_in_the_figure_while_it_trains(tmp_path) -> None:
    study, _, stopper = _setup(tmp_path, every=0)
    done = study.ask()
    set_trial_record(done, EVALS_ATTR, {"10": [50.0, 40.0], "20": [60.0, 45.0]})
    study.tell(done, [60.0, 45.0])
    running = study.ask()
    assert stopper.keep_going(study, running, 10, (30.0, 20.0))
    traces = _figure(study)["data"]
    hovers = {t["hovertemplate"].split("<br>")[0] for t in traces}
    assert hovers == {"trial 0 (complete)", "trial 1 (running)"}
    assert {t["name"] for t in traces if t.get("showlegend")} == {"complete", "running"}
    system = study._storage.get_study_system_attrs(study._study_id)
    note = get_note_from_system_attrs(system, None)["body"]
    assert "lr > 1e-4 helps f1" in note and "inconclusive" in note
    assert "python -m search.report --storage sqlite:///" in note and "--study s" in note


def test_the_study_is_rebuilt_at_most_once_per_period(tmp_path) -> None:
    study, view, stopper = _setup(tmp_path, every=3600)
    other = LiveView(view.config, every=3600)  # a second worker on the same study
    trial = study.ask()
    for step in range(1, 50):
        assert stopper.keep_going(study, trial, step, (1.0, 1.0))
        other.at_evaluation(study, trial, {"1": [1.0, 1.0]})
    assert view.rebuilds + other.rebuilds == 1
    assert view.refresh(study, force=True)  # a worker's last word is always published

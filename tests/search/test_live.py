"""The live figure and study note a worker publishes while trials run, and their bounded cost."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna_dashboard._custom_plot_data import get_plotly_graph_objects
from optuna_dashboard._note import get_note_from_system_attrs

from search.analysis.curves import GRAPH_ID, RUNNING_ID
from search.attrs import HYPOTHESES, set_trial_evals
from search.config import DataFiles, Deployment, SearchConfig, SearchPlan
from search.live import LiveView
from search.pruning.pruner import make_pruner

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
    return study, view, make_pruner("none", watcher=view.at_evaluation)


def _figure(study: optuna.Study) -> dict:
    system = study._storage.get_study_system_attrs(study._study_id)
    return json.loads(get_plotly_graph_objects(system)[GRAPH_ID])


def test_a_running_trial_is_in_the_figure_while_it_trains(tmp_path) -> None:
    study, _, pruner = _setup(tmp_path, every=0)
    done = study.ask()
    set_trial_evals(done, {"10": [50.0, 40.0], "20": [60.0, 45.0]})
    study.tell(done, [60.0, 45.0])
    running = study.ask()
    assert pruner.keep_going(study, running, 10, (30.0, 20.0))
    traces = _figure(study)["data"]
    hovers = {t["hovertemplate"].split("<br>")[0] for t in traces}
    assert hovers == {"trial 0 (complete)", "trial 1 (running)"}
    assert {t["name"] for t in traces if t.get("showlegend")} == {"complete", "running"}
    system = study._storage.get_study_system_attrs(study._study_id)
    note = get_note_from_system_attrs(system, None)["body"]
    assert "lr > 1e-4 helps f1" in note and "inconclusive" in note
    assert "python -m search.report --storage sqlite:///" in note and "--study s" in note


def test_the_study_is_rebuilt_at_most_once_per_period(tmp_path) -> None:
    study, view, pruner = _setup(tmp_path, every=3600)
    other = LiveView(view.config, every=3600)  # a second worker on the same study
    trial = study.ask()
    for step in range(1, 50):
        assert pruner.keep_going(study, trial, step, (1.0, 1.0))
        other.at_evaluation(study, trial, {"1": [1.0, 1.0]})
    assert view.rebuilds + other.rebuilds == 1
    assert view.refresh(study, force=True)  # a worker's last word is always published


def _running_figure(study: optuna.Study) -> dict:
    system = study._storage.get_study_system_attrs(study._study_id)
    return json.loads(get_plotly_graph_objects(system)[RUNNING_ID])


def test_the_running_figure_is_current_at_every_evaluation(tmp_path) -> None:
    """Not one evaluation behind, from the first, with the period of the big figure an hour."""
    study, view, stopper = _setup(tmp_path, every=3600)
    other = LiveView(view.config, every=3600)  # a second worker, with its own trial
    workers = [
        (study.ask(), stopper),
        (study.ask(), make_pruner("none", watcher=other.at_evaluation)),
    ]
    for step in range(1, 6):
        for trial, stopper in workers:
            assert stopper.keep_going(study, trial, step, (step * 10.0, step * 5.0))
            traces = _running_figure(study)["data"]
            points = {t["hovertemplate"].split("<br>")[0]: len(t["x"]) for t in traces}
            assert points[f"trial {trial.number} (running)"] == step
    assert view.rebuilds + other.rebuilds == 1  # every trial's figure and the note: per period


def test_a_state_change_is_in_both_figures_when_the_trial_ends(tmp_path) -> None:
    study, view, stopper = _setup(tmp_path, every=3600)
    trial = study.ask()
    assert stopper.keep_going(study, trial, 1, (10.0, 5.0))
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    view(study, study.trials[trial.number])  # the study callback after each trial
    assert _running_figure(study)["data"] == []
    (label,) = {t["hovertemplate"].split("<br>")[0] for t in _figure(study)["data"]}
    assert label == f"trial {trial.number} (pruned)"
    pruned = _figure(study)["data"][0]
    assert pruned["mode"] == "lines+markers" and pruned["opacity"] >= 0.5  # one point shows

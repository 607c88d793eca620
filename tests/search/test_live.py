"""The live figure and study note a worker publishes while trials run, and their bounded cost."""

from __future__ import annotations

import json
import threading

import optuna
import pytest
from optuna_dashboard._custom_plot_data import get_plotly_graph_objects
from optuna_dashboard._note import get_note_from_system_attrs

from search._attrs import HYPOTHESES, set_trial_evals
from search._config import DataFiles, Deployment, SearchConfig, SearchPlan
from search._live import LiveView
from search.analysis._curves import GRAPH_ID, RUNNING_ID
from search.pruning._pruner import make_pruner

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


def test_a_slow_worker_never_saves_an_older_running_figure_over_a_newer_one(
    tmp_path, monkeypatch
) -> None:
    """Worker A reads the running trials, then stalls (a busy database, a descheduled process)
    while the trial gains an evaluation and worker B saves its figure: the figure left in the
    study is B's newer one, never A's older one."""
    from search.analysis import _curves as curves

    study, _, _ = _setup(tmp_path, every=0)
    trial = study.ask()
    set_trial_evals(trial, {"10": [30.0, 20.0]})
    other = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'study.db'}")
    a_read, a_may_write = threading.Event(), threading.Event()
    build = curves.running_curves_figure

    def stalling_build(s: optuna.Study) -> dict:
        figure = build(s)
        if threading.current_thread().name == "worker-a":
            a_read.set()
            a_may_write.wait(timeout=30)
        return figure

    monkeypatch.setattr(curves, "running_curves_figure", stalling_build)
    a = threading.Thread(target=curves.publish_running_curves, args=(study,), name="worker-a")
    a.start()
    assert a_read.wait(timeout=30)
    set_trial_evals(trial, {"10": [30.0, 20.0], "20": [40.0, 25.0]})
    b = threading.Thread(target=curves.publish_running_curves, args=(other,), name="worker-b")
    b.start()
    b.join(timeout=1.0)  # unlocked, B saves now; locked, B waits for A
    a_may_write.set()
    a.join()
    b.join()
    system = study._storage.get_study_system_attrs(study._study_id)
    figure = json.loads(get_plotly_graph_objects(system)[RUNNING_ID])
    assert {len(trace["x"]) for trace in figure["data"]} == {2}

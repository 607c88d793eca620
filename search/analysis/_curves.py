"""Learning curves of every objective, published into the study for optuna-dashboard.

Optuna's intermediate values hold one number per step, and optuna-dashboard draws its own
learning-curve chart only for single-objective studies. So the workers save figures of every
objective's curve into the study (optuna-dashboard's user-defined plots), read from the ``evals``
attribute, the trial named on hover:

- :data:`RUNNING_ID`, the running trials only: small, so a worker saves it at every evaluation
  (``search._live``) and it is at most one evaluation behind any running trial. Workers read the
  trials and save the figure under a storage lock, so a worker slowed between its read and its
  write never overwrites a newer figure with an older one;
- :data:`GRAPH_ID`, every trial (running ones highlighted, pruned ones thin and grey), saved when
  a trial ends and at most once per ``--live-every`` seconds while trials run.

The figures are plain plotly JSON built here, not ``plotly.graph_objects`` (whose validation
costs about 3 ms a trace: a second for 200 trials).
"""

from __future__ import annotations

import json

import optuna
from optuna.trial import FrozenTrial, TrialState
from optuna_dashboard import save_plotly_graph_object

from search.pruning._evaluations import evals_of
from storage._locks import storage_lock
from storage._optuna import storage_of

GRAPH_ID = "learning-curves"
RUNNING_ID = "running-trials"
SHOWN = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED)
# state -> (colour, line width, opacity, marker size): running trials stand out, pruned ones
# recede but stay visible (a curve of one evaluation is its marker)
_STYLE = {
    TrialState.RUNNING: ("#d62728", 3, 1.0, 7),
    TrialState.COMPLETE: ("#1f77b4", 1.5, 0.9, 4),
    TrialState.PRUNED: ("#7f7f7f", 1.2, 0.6, 4),
}
_GAP = 0.08  # between the panels, as a share of the width


class Figure(dict):
    """A plotly figure as its JSON: what ``save_plotly_graph_object`` stores (``to_json``)."""

    @property
    def data(self) -> list[dict]:
        return self["data"]

    def to_json(self) -> str:
        return json.dumps(self, separators=(",", ":"))


def objective_names(study: optuna.Study) -> list[str]:
    return study.metric_names or [f"objective {i}" for i in range(len(study.directions))]


def learning_curves_figure(study: optuna.Study) -> Figure:
    """Every trial's curves, one panel per objective."""
    trials = study.get_trials(deepcopy=False, states=SHOWN)
    title = "Learning curves of every objective (red: running, grey: pruned)"
    return curves_figure(objective_names(study), trials, title)


def running_curves_figure(study: optuna.Study) -> Figure:
    """The running trials' curves, every evaluation so far."""
    trials = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    title = f"Running trials ({len(trials)}): every evaluation so far"
    return curves_figure(objective_names(study), trials, title)


def curves_figure(names: list[str], trials: list[FrozenTrial], title: str) -> Figure:
    width = (1 - _GAP * (len(names) - 1)) / len(names)
    layout: dict = {"title": {"text": title}, "height": 440, "annotations": []}
    layout["legend"] = {"title": {"text": "one entry per state"}}
    for i, name in enumerate(names):
        suffix = str(i + 1) if i else ""
        start = i * (width + _GAP)
        layout[f"xaxis{suffix}"] = {
            "domain": [start, start + width],
            "anchor": f"y{suffix}",
            "title": {"text": "optimizer step"},
        }
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}"}
        layout["annotations"].append(
            {"text": name, "x": start + width / 2, "y": 1.0, "xref": "paper", "yref": "paper",
             "xanchor": "center", "yanchor": "bottom", "showarrow": False}
        )  # fmt: skip
    data = []
    legend_shown: set[TrialState] = set()
    for trial in sorted(trials, key=lambda t: SHOWN.index(t.state), reverse=True):
        evals = evals_of(trial)
        if not evals:
            continue
        first = trial.state not in legend_shown
        legend_shown.add(trial.state)
        for i in range(len(names)):
            data.append(_trace(trial, evals, i, first and i == 0))
    return Figure(data=data, layout=layout)


def _trace(trial: FrozenTrial, evals: dict, i: int, in_legend: bool) -> dict:
    color, width, opacity, size = _STYLE[trial.state]
    state = trial.state.name.lower()
    suffix = str(i + 1) if i else ""
    return {
        "type": "scatter",
        "x": list(evals),
        "y": [round(values[i], 2) for values in evals.values()],
        "xaxis": f"x{suffix}",
        "yaxis": f"y{suffix}",
        "mode": "lines+markers",
        "name": state,
        "legendgroup": state,
        "showlegend": in_legend,
        "opacity": opacity,
        "line": {"color": color, "width": width},
        "marker": {"color": color, "size": size},
        "hovertemplate": f"trial {trial.number} ({state})<br>step %{{x}}<br>%{{y:.2f}}"
        + "<extra></extra>",
    }


def publish_learning_curves(study: optuna.Study) -> None:
    """Save (overwrite) the study's all-objective learning-curve figure for the dashboard."""
    save_plotly_graph_object(study, learning_curves_figure(study), graph_object_id=GRAPH_ID)


def publish_running_curves(study: optuna.Study) -> None:
    """Save (overwrite) the running trials' figure for the dashboard: read and saved under the
    study's figure lock (milliseconds), so figures are saved in the order their trials were read."""
    with storage_lock(storage_of(study), f"running-figure:{study.study_name}"):
        figure = running_curves_figure(study)
        save_plotly_graph_object(study, figure, graph_object_id=RUNNING_ID)

"""Learning curves of every objective, published into the study for optuna-dashboard.

Optuna's intermediate values hold one number per step, and optuna-dashboard draws its own
learning-curve chart only for single-objective studies. So the workers save a figure with every
objective's curve for every trial into the study (optuna-dashboard's user-defined plots), read
from the ``evals`` attribute: running trials highlighted, pruned ones dimmed, the trial named on
hover. ``search.live`` refreshes it while trials run.
"""

from __future__ import annotations

import optuna
import plotly.graph_objects as go
from optuna.trial import TrialState
from optuna_dashboard import save_plotly_graph_object
from plotly.subplots import make_subplots

from search.pruning.evaluations import evals_of

GRAPH_ID = "learning-curves"
SHOWN = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED)
# state -> (colour, line width, opacity): running trials stand out, pruned ones recede
_STYLE = {
    TrialState.RUNNING: ("#d62728", 3, 1.0),
    TrialState.COMPLETE: ("#1f77b4", 1.5, 0.9),
    TrialState.PRUNED: ("#999999", 1, 0.35),
}


def learning_curves_figure(study: optuna.Study) -> go.Figure:
    names = study.metric_names or [f"objective {i}" for i in range(len(study.directions))]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    trials = study.get_trials(deepcopy=False, states=SHOWN)
    legend_shown: set[TrialState] = set()
    for trial in sorted(trials, key=lambda t: SHOWN.index(t.state), reverse=True):
        evals = evals_of(trial)
        if not evals:
            continue
        first = trial.state not in legend_shown
        legend_shown.add(trial.state)
        for i in range(len(names)):
            fig.add_trace(_trace(trial, evals, i, first and i == 0), row=1, col=i + 1)
    fig.update_xaxes(title_text="optimizer step")
    fig.update_layout(
        title="Learning curves of every objective (red: running, grey: pruned)",
        height=440,
        legend={"title": {"text": "one entry per state"}},
    )
    return fig


def _trace(trial, evals: dict, i: int, in_legend: bool) -> go.Scatter:
    color, width, opacity = _STYLE[trial.state]
    state = trial.state.name.lower()
    return go.Scatter(
        x=list(evals),
        y=[round(values[i], 2) for values in evals.values()],
        mode="lines+markers" if trial.state == TrialState.RUNNING else "lines",
        name=state,
        legendgroup=state,
        showlegend=in_legend,
        opacity=opacity,
        line={"color": color, "width": width},
        hovertemplate=f"trial {trial.number} ({state})<br>step %{{x}}<br>%{{y:.2f}}<extra></extra>",
    )


def publish_learning_curves(study: optuna.Study) -> None:
    """Save (overwrite) the study's all-objective learning-curve figure for the dashboard."""
    save_plotly_graph_object(study, learning_curves_figure(study), graph_object_id=GRAPH_ID)

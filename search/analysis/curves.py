"""Learning curves of every objective, published into the study for optuna-dashboard.

Optuna's intermediate values hold one number per step, so the dashboard's own learning-curve
chart shows the first objective only. After each trial the worker saves a figure with every
objective's curve for every finished trial into the study (optuna-dashboard's user-defined
plots), read from the ``evals`` attribute that MO-ASHA's bookkeeping fills.
"""

from __future__ import annotations

import optuna
import plotly.graph_objects as go
from optuna.trial import TrialState
from optuna_dashboard import save_plotly_graph_object
from plotly.subplots import make_subplots

from search.pruning.pruner import evals_of

GRAPH_ID = "learning-curves"
_COLORS = {TrialState.COMPLETE: "#1f77b4", TrialState.PRUNED: "#bbbbbb"}


def learning_curves_figure(study: optuna.Study) -> go.Figure:
    names = study.metric_names or [f"objective {i}" for i in range(len(study.directions))]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    for trial in trials:
        evals = evals_of(trial)
        if not evals:
            continue
        steps = list(evals)
        for i in range(len(names)):
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=[round(values[i], 2) for values in evals.values()],
                    mode="lines",
                    name=f"trial {trial.number}",
                    legendgroup=str(trial.number),
                    showlegend=i == 0,
                    line={"color": _COLORS[trial.state], "width": 1},
                    hovertemplate=f"trial {trial.number} ({trial.state.name.lower()})"
                    "<br>step %{x}<br>%{y:.2f}<extra></extra>",
                ),
                row=1,
                col=i + 1,
            )
    fig.update_xaxes(title_text="optimizer step")
    fig.update_layout(
        title="Learning curves of every objective (grey: pruned)", height=420, showlegend=False
    )
    return fig


def publish_learning_curves(study: optuna.Study) -> None:
    """Save (overwrite) the study's all-objective learning-curve figure for the dashboard."""
    save_plotly_graph_object(study, learning_curves_figure(study), graph_object_id=GRAPH_ID)

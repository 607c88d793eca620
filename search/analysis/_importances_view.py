"""The report's parameter importances where the dashboard shows them, with their method.

The report ranks parameters with fANOVA (``optuna.importance.FanovaImportanceEvaluator``, a
random forest's variance decomposition over the COMPLETE trials); optuna-dashboard's own chart
uses PED-ANOVA, which compares the parameter distributions of the best trials (a top quantile)
with those of all trials. The two answer different questions (what explains the objective's
variance, and what sets the best trials apart), so their rankings can differ, most of all with
few trials.
"""

from __future__ import annotations

from collections.abc import Mapping

import optuna
import plotly.graph_objects as go
from optuna_dashboard import save_plotly_graph_object

METHOD = (
    "fANOVA over the complete trials (the variance of the objective each parameter explains); "
    "optuna-dashboard's own chart uses PED-ANOVA (what sets the top trials apart from all), so "
    "the two rankings can differ, most of all with few trials"
)
PREFIX = "importances_"


def publish_importances(study: optuna.Study, figs: Mapping[str, go.Figure]) -> list[str]:
    """Save the report's importance figures as the study's dashboard plots; their ids."""
    saved = []
    for stem, fig in figs.items():
        if stem.startswith(PREFIX):
            graph_id = f"fanova-importances-{stem.removeprefix(PREFIX)}"
            fig = go.Figure(fig).update_layout(title=f"{fig.layout.title.text}: {METHOD}")
            save_plotly_graph_object(study, fig, graph_object_id=graph_id)
            saved.append(graph_id)
    return saved

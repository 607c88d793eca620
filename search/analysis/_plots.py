"""The report's figures: built from a study as plotly figures, written as HTML and, where a
Chrome or Chromium is installed, as PNG.

Optuna's intermediate values hold only a multi-objective study's first objective (see
``search/pruning/_pruner.py``), so :func:`learning_curves` draws every objective from the trials'
``"evals"`` record as well.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import optuna
import plotly.graph_objects as go
from optuna.trial import TrialState
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from search._config import OBJECTIVES
from search.pruning._evaluations import evals_of

PNG_SIZE = {"width": 1000, "height": 600, "scale": 1}
_SLUGS = {metric: flag for flag, metric in OBJECTIVES.items()}


def objective_slug(objective: str) -> str:
    """The short name of an objective for file names: ``micro_f1`` -> ``f1``."""
    return _SLUGS.get(objective, objective)


def figures(
    study: optuna.Study,
    objectives: Sequence[str],
    importances: Mapping[str, Mapping[str, float] | None],
) -> dict[str, go.Figure]:
    """All figures of the report by file stem; figures with nothing to show are left out.

    ``importances`` maps each objective to its parameter importances (``None`` when they could
    not be computed).
    """
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    figs: dict[str, go.Figure] = {}
    for i, name in enumerate(objectives):
        if complete:
            figs[f"history_{objective_slug(name)}"] = (
                optuna.visualization.plot_optimization_history(
                    study, target=_value_at(i), target_name=name
                )
            )
        ranking = importances.get(name)
        if ranking:
            figs[f"importances_{objective_slug(name)}"] = importance_bars(ranking, name)
    if len(objectives) in (2, 3) and complete:
        figs["pareto_front"] = optuna.visualization.plot_pareto_front(
            study, target_names=list(objectives)
        )
    if any(t.intermediate_values for t in trials):
        fig = optuna.visualization.plot_intermediate_values(study)
        fig.update_layout(title=f"Intermediate values ({objectives[0]})")
        figs["intermediate_values"] = fig
    curves = learning_curves(trials, objectives)
    if curves is not None:
        figs["learning_curves"] = curves
    return figs


def _value_at(index: int):
    return lambda trial: trial.values[index]


def importance_bars(importances: Mapping[str, float], objective: str) -> go.Figure:
    """Horizontal bars, the most important parameter on top."""
    ranked = sorted(importances.items(), key=lambda item: item[1])
    fig = go.Figure(
        go.Bar(
            x=[value for _, value in ranked],
            y=[name for name, _ in ranked],
            orientation="h",
            text=[f"{value:.2f}" for _, value in ranked],
            textposition="outside",
        )
    )
    fig.update_layout(
        title=f"Hyperparameter importances for {objective} (fANOVA)",
        xaxis_title="importance",
        margin={"l": 200},
    )
    return fig


def learning_curves(
    trials: Sequence[optuna.trial.FrozenTrial], objectives: Sequence[str]
) -> go.Figure | None:
    """Every objective against the evaluation step, one line per trial (dotted when pruned);
    ``None`` when no trial recorded evaluations."""
    curves = [(t, evals_of(t)) for t in trials]
    curves = [(t, e) for t, e in curves if e]
    if not curves:
        return None
    fig = make_subplots(
        rows=len(objectives), cols=1, shared_xaxes=True, subplot_titles=list(objectives)
    )
    colors = itertools.cycle(qualitative.Plotly)
    for trial, evals in curves:
        color = next(colors)
        steps = list(evals)
        for row, name in enumerate(objectives, start=1):
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=[values[row - 1] for values in evals.values()],
                    mode="lines+markers",
                    name=f"trial {trial.number}",
                    legendgroup=f"trial {trial.number}",
                    showlegend=row == 1,
                    line={"color": color, "dash": _dash(trial.state)},
                    hovertemplate=(
                        f"trial {trial.number} ({trial.state.name.lower()})<br>"
                        f"step %{{x}}<br>{name} %{{y:.2f}}<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
    fig.update_xaxes(title_text="step", row=len(objectives), col=1)
    # one legend entry per trial, without the gap plotly leaves between legend groups, and a
    # figure tall enough for all of them (a legend taller than the figure is cut off)
    height = max(320 * len(objectives) + 120, 20 * len(curves) + 200)
    fig.update_layout(
        title="Learning curves (dotted: pruned)", height=height, legend={"tracegroupgap": 0}
    )
    return fig


def _dash(state: TrialState) -> str:
    return "solid" if state == TrialState.COMPLETE else "dot"


def write_html(figs: Mapping[str, go.Figure], out_dir: Path) -> list[Path]:
    """One HTML file per figure; plotly.js is written once next to them, so the files open
    offline without embedding 3 MB each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figs.items():
        path = out_dir / f"{stem}.html"
        fig.write_html(path, include_plotlyjs="directory", full_html=True)
        paths.append(path)
    return paths


def write_png(figs: Mapping[str, go.Figure], out_dir: Path) -> tuple[list[Path], str | None]:
    """PNG copies through kaleido and an installed Chrome/Chromium (found on ``PATH`` or through
    ``BROWSER_PATH``; never downloaded). Returns the files written and, when none could be,
    one line saying why."""
    if not figs:
        return [], None
    try:
        import kaleido
        from kaleido.errors import ChromeNotFoundError
    except ImportError:
        return [], "kaleido is not installed (pip install 'kaleido>=1')"
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = [
        {
            "fig": fig.to_dict(),
            "path": out_dir / f"{stem}.png",
            "opts": {**PNG_SIZE, "format": "png"},
        }
        for stem, fig in figs.items()
    ]
    try:
        # One browser for all figures; MathJax off since it would be fetched from a CDN.
        kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False})
    except ChromeNotFoundError:
        configured = os.environ.get("BROWSER_PATH")
        if configured:
            return [], f"BROWSER_PATH={configured!r} is not a Chrome/Chromium executable"
        return [], (
            "no Chrome or Chromium found (install the chromium package, or set BROWSER_PATH "
            "to a Chrome/Chromium executable)"
        )
    except Exception as exc:  # PNGs are optional: the HTML plots stand alone
        return [], f"the browser could not render them ({type(exc).__name__}: {_message(exc)})"
    written = [spec["path"] for spec in specs if spec["path"].exists()]
    if len(written) < len(specs):  # kaleido can return without a file and without an error
        missing = ", ".join(spec["path"].name for spec in specs if spec["path"] not in written)
        return written, f"the browser returned without writing {missing}"
    return written, None


def _message(exc: BaseException) -> str:
    """The first line of an exception's message (some put a tuple of sentences in ``args``)."""
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return (text.strip().splitlines() or [""])[0][:200]

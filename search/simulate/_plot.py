"""Best F1 and hypervolume against compute: one line (median) and band (quartiles) per strategy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from search.analysis._plots import write_png
from search.simulate._metrics import at, progress
from search.simulate._replay import Replay

POINTS = 80


def figure(replays: dict[str, list[Replay]], axis: str = "seconds") -> go.Figure:
    spent = [progress(r, axis) for runs in replays.values() for r in runs]
    top = max((float(c[-1, 0]) for c in spent if len(c)), default=1.0)
    grid = np.linspace(0.0, top, POINTS)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("best micro-F1", "(F1, AUPRC) hypervolume"))
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]
    for i, (name, runs) in enumerate(replays.items()):
        color = palette[i % len(palette)]
        values = np.array([at(progress(r, axis), grid) for r in runs])
        q1, median, q3 = np.percentile(values, [25, 50, 75], axis=0)
        for col in (0, 1):
            band_x = np.concatenate([grid, grid[::-1]])
            band_y = np.concatenate([q3[:, col], q1[:, col][::-1]])
            fig.add_trace(
                go.Scatter(
                    x=band_x,
                    y=band_y,
                    fill="toself",
                    line={"width": 0},
                    fillcolor=color,
                    opacity=0.15,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=1,
                col=col + 1,
            )
            fig.add_trace(
                go.Scatter(
                    x=grid,
                    y=median[:, col],
                    name=name,
                    line={"color": color},
                    legendgroup=name,
                    showlegend=col == 0,
                ),
                row=1,
                col=col + 1,
            )
    unit = "simulated GPU-seconds" if axis == "seconds" else "train examples"
    fig.update_xaxes(title_text=f"compute ({unit}, all workers)")
    seeds = len(next(iter(replays.values())))
    fig.update_layout(title=f"Replayed searches, median and quartiles over {seeds} seeds")
    return fig


def write(replays: dict[str, list[Replay]], path: Path) -> str | None:
    """The PNG at ``path``; returns why not when no browser is there to render it."""
    written, why = write_png({path.stem: figure(replays)}, path.parent)
    return None if written else why


def fidelity_figure(result: dict) -> go.Figure:
    """Each real search's best F1 and hypervolume against the replays' 10-90% band at its
    compute in train examples: a bar for the band, a dot for the real search (filled inside)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("best micro-F1", "(F1, AUPRC) hypervolume"))
    searches = result["searches"]
    labels = [f"{j['real']['strategy']} {j['real']['seed']}" for j in searches]
    for col, name in enumerate(("best_f1", "hypervolume"), start=1):
        low = np.array([j["bands"]["examples"][name][0] for j in searches])
        high = np.array([j["bands"]["examples"][name][1] for j in searches])
        real = [j["real"][name] for j in searches]
        inside = [j["inside"]["examples"][name] for j in searches]
        fig.add_trace(
            go.Bar(x=labels, y=high - low, base=low, name="simulated 10-90%", opacity=0.35,
                   marker_color="#1f77b4", showlegend=col == 1),
            row=1, col=col,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=labels, y=real, mode="markers", name="real search",
                       marker={"color": ["#2ca02c" if ok else "#d62728" for ok in inside],
                               "size": 10}, showlegend=col == 1),
            row=1, col=col,
        )  # fmt: skip
    about = result["about"]
    fig.update_layout(
        title=f"Real searches against {about['seeds']} replays each (noise {about['noise']})<br>"
        "<sup>at each real search's compute in train examples; green inside, red outside</sup>",
        width=1200,
        height=500,
    )
    return fig


def write_fidelity(result: dict, path: Path) -> str | None:
    written, why = write_png({path.stem: fidelity_figure(result)}, path.parent)
    return None if written else why

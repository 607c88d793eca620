"""Do rungs compare runs fairly? Early ranks against final ranks, straight from the table.

With ``num_train_epochs`` searched and the pruner's resource counted in evaluations, a 1-epoch
run's 4th evaluation is its last (learning rate decayed to 0) while a 3-epoch run's 4th is a third
of the way in. For each rung this compares, over the table's full runs, the F1 at that rung with
the F1 the run ended with (Spearman's rank correlation), and the mean epochs of the rung's top
third with those of the final top third: if short runs crowd the rung's top third but not the
final one, the rung favours short schedules. Rungs are read two ways: at the k-th evaluation
(the service's resource) and at the same fraction of each run's own schedule (interpolated).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import spearmanr

from search.simulate._table import Table


def rung_values(table: Table, rung: int | float) -> np.ndarray:
    """Each run's F1 at a rung: an int is the k-th evaluation (the last if it has fewer), a float
    a fraction of the run's schedule."""
    out = []
    for c in table.full:
        if isinstance(rung, int):
            out.append(c.evals[min(rung, len(c.evals)) - 1, 3])
        else:
            out.append(np.interp(rung, c.fractions, c.evals[:, 3]))
    return np.array(out)


def schedule_bias(table: Table, rungs: tuple = (1, 3, 9, 1 / 12, 1 / 4, 3 / 4)) -> list[dict]:
    final = np.array([c.final[0] for c in table.full])
    epochs = np.array([float(c.params.get("num_train_epochs", 0)) for c in table.full])
    top = max(1, len(final) // 3)
    final_top = np.argsort(-final)[:top]
    rows = []
    for rung in rungs:
        values = rung_values(table, rung)
        rung_top = np.argsort(-values)[:top]
        rows.append(
            {
                "rung": f"evaluation {rung}" if isinstance(rung, int) else f"fraction {rung:.3f}",
                "spearman_with_final": round(float(spearmanr(values, final).statistic), 3),
                "top_third_epochs": round(float(epochs[rung_top].mean()), 2),
                "final_top_third_epochs": round(float(epochs[final_top].mean()), 2),
                "top_third_kept": round(len(set(rung_top) & set(final_top)) / top, 2),
            }
        )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'rung':<20}{'Spearman':>9}{'epochs top1/3':>15}{'final top1/3':>14}{'kept':>6}"]
    for r in rows:
        lines.append(
            f"{r['rung']:<20}{r['spearman_with_final']:>9}{r['top_third_epochs']:>15}"
            f"{r['final_top_third_epochs']:>14}{r['top_third_kept']:>6}"
        )
    return "\n".join(lines)

"""The 95% and 99% targets: shares of the best full run known for the data, never of a model's.

The best known run is the table's best full run, or a better one given with ``--best-f1`` (a
real search's or another table's run on the same data). A target is refused when its distance
below that best is smaller than the surrogate's held-out error on a run's final F1: the replays
cannot tell a run that reached it from one that did not, so their compute to it means nothing.
"""

from __future__ import annotations

from typing import Any

from search.simulate._table import Table

SHARES = (95, 99)


def best_known(table: Table, given: float | None) -> dict[str, Any]:
    """The best full-run F1 known for the data, and where it comes from."""
    best = {"f1": round(table.best_f1, 4), "source": f"table {table.name}'s best full run"}
    if given is not None and given > best["f1"]:
        best = {"f1": round(given, 4), "source": "--best-f1 (a run outside the table)"}
    return best


def targets(best: dict[str, Any], error: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per share: the target F1, how far below the best it lies, and whether it is refused."""
    mae = float(error["mae_final_f1"])
    out = {}
    for share in SHARES:
        f1 = best["f1"] * share / 100
        gap = best["f1"] - f1
        target: dict[str, Any] = {"f1": round(f1, 3), "below_best": round(gap, 3)}
        if gap < mae:
            target["refused"] = (
                f"{share}% of {best['f1']:.2f} lies {gap:.2f} F1 below the best known run, "
                f"finer than the surrogate's held-out error on final F1 ({mae:.2f})"
            )
        out[str(share)] = target
    return out


def withhold(result: dict[str, Any], chosen: dict[str, dict[str, Any]]) -> None:
    """Replace every figure of a refused target (compute to it, seeds reaching it, ratios) by
    ``{"refused": why}`` in each strategy's entry of ``result``."""
    for share, target in chosen.items():
        why = target.get("refused")
        if not why:
            continue
        for name, entry in result.items():
            if name == "simulation" or not isinstance(entry, dict):
                continue
            for key in list(entry):
                if key.startswith((f"compute_to_{share}", f"reached_{share}")):
                    entry[key] = {"refused": why}

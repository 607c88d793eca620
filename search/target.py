"""How many finished trials a launcher runs the study up to.

``--trials N`` adds N to what the study has when the launcher starts; ``--total N`` is the count
the study should reach, the same for every launcher that names it. A launcher started again
(a replaced Kubernetes pod, a restarted container) with ``--total`` runs only what is missing,
so a shared total keeps the study's count however often its launchers are replaced.
"""

from __future__ import annotations

from common.cli import UserError


def check_total(total: int | None) -> None:
    if total is not None and total < 1:
        raise UserError(f"--total: must be at least 1, got {total}")


def target_and_trials(finished: int, trials: int, total: int | None) -> tuple[int, int]:
    """(finished trials the study must reach, trials this launcher still runs towards it)."""
    if total is None:
        return finished + trials, trials
    return max(total, finished), max(total - finished, 0)

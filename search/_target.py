"""How many finished trials a launcher runs: its quota (:mod:`search._quota`).

``--trials N`` adds N trials of the launcher's own, whatever other launchers add; ``--total N``
is the count the study should reach, the same for every launcher that names it. A launcher started
again (a replaced Kubernetes pod, a restarted container) with ``--total`` runs only what is
missing, so a shared total keeps the study's count however often its launchers are replaced.
"""

from __future__ import annotations

from common._cli import UserError
from search._quota import Quota


def check_total(total: int | None) -> None:
    if total is not None and total < 1:
        raise UserError(f"--total: must be at least 1, got {total}")


def quota_for(finished: int, trials: int, total: int | None) -> Quota:
    """The launcher's quota: ``trials`` of its own, or the study's ``total`` (it has
    ``finished``)."""
    if total is None:
        return Quota(trials)
    return Quota(total, launch=None, before=min(finished, total))

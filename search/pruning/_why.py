"""Why MO-ASHA stopped a trial: its rung, its place among the results there, and who beat it.

Computed only when a trial is stopped (one more read of the study), recorded as the trial's
``pruned_reason`` (one short line, for ``optuna trials``) and the record ``pruned_at`` (the same
facts as values), and shown as the trial's note in optuna-dashboard.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from search._attrs import PRUNED_AT, PRUNED_REASON, set_trial_record, trial_evals
from search.pruning._evaluations import COUNTED_STATES, evals_of, resource_at
from search.pruning._moasha import _dominates, _gains, mo_order, rung_index

SHOWN_DOMINATORS = 4  # in the one-line reason (a cell of `optuna trials`); the note lists them all


@dataclass(frozen=True)
class Standing:
    """A trial's place at a rung: ``position`` (1-based) of ``of`` results, the cut ``keep``
    (the first ``ceil(of / eta)`` continue), and the trials whose results dominated its own."""

    rung: int
    evaluation: int
    step: int
    position: int
    of: int
    keep: int
    eta: int
    dominated_by: tuple[int, ...]

    def reason(self) -> str:
        shown = ", ".join(str(n) for n in self.dominated_by[:SHOWN_DOMINATORS])
        more = len(self.dominated_by) - SHOWN_DOMINATORS
        if more > 0:
            shown += f" and {more} more"
        return (
            f"rung {self.rung} (evaluation {self.evaluation}, step {self.step}): "
            f"{self.position} of {self.of}, outside the top {self.keep} (1/{self.eta}); "
            f"dominated by trial{'s' if len(self.dominated_by) > 1 else ''} {shown or 'none'}"
        )

    def to_json(self) -> dict:
        return {**asdict(self), "dominated_by": list(self.dominated_by)}


def standing(
    me: Sequence[float],
    others: Sequence[tuple[int, Sequence[float]]],
    maximize: Sequence[bool],
    eta: int,
) -> tuple[int, int, int, tuple[int, ...]]:
    """(position, of, keep, dominated_by) of ``me`` among ``others`` (trial number, values)."""
    points = [tuple(values) for _, values in others] + [tuple(me)]
    order = mo_order(points, maximize)
    n = len(points)
    dominates = _dominates(_gains(points, maximize))
    dominators = tuple(sorted(others[i][0] for i in range(n - 1) if dominates[i, n - 1]))
    return order.index(n - 1) + 1, n, math.ceil(n / eta), dominators


def explain(
    study: optuna.Study,
    trial: optuna.Trial | FrozenTrial,
    step: int,
    values: Sequence[float],
    reduction_factor: int,
    min_resource: int,
) -> Standing:
    """The standing of ``trial``'s evaluation at ``step``, as MO-ASHA with these rungs judged
    it."""
    maximize = [d == StudyDirection.MAXIMIZE for d in study.directions]
    resource = resource_at(evals_of(trial), step)
    trials = study.get_trials(deepcopy=False, states=COUNTED_STATES)
    others = []
    for other in trials:
        raw = trial_evals(other)
        if other.number != trial.number and len(raw) >= resource:
            key = sorted(raw, key=int)[resource - 1]
            others.append((other.number, [float(v) for v in raw[key]]))
    position, of, keep, dominators = standing(values, others, maximize, reduction_factor)
    rung = rung_index(resource, min_resource, reduction_factor)
    return Standing(rung or 0, resource, step, position, of, keep, reduction_factor, dominators)


def note(standing: Standing, trial_number: int) -> str:
    """The trial's dashboard note (Markdown)."""
    who = ", ".join(f"trial {n}" for n in standing.dominated_by) or "none"
    return (
        f"## Trial {trial_number}: pruned\n\n"
        f"- **Rung** {standing.rung}: evaluation {standing.evaluation}, step {standing.step}\n"
        f"- **Position** {standing.position} of {standing.of} results at this rung\n"
        f"- **Cut**: the top {standing.keep} (1/{standing.eta}) continue, and every trial on "
        "the rung's Pareto front\n"
        f"- **Dominated by** {who}\n"
    )


def mark_pruned(trial: optuna.Trial, standing: Standing) -> None:
    """Write the standing into the trial (attributes and dashboard note)."""
    trial.set_user_attr(PRUNED_REASON, standing.reason())
    set_trial_record(trial, PRUNED_AT, standing.to_json())
    save_note(trial, note(standing, trial.number))


def save_note(study_or_trial: optuna.Study | optuna.Trial, body: str) -> None:
    """optuna-dashboard's note; the dashboard is optional for the search, notes are extras."""
    try:
        from optuna_dashboard import save_note as save
    except ImportError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        save(study_or_trial, body)

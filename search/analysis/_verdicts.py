"""Verdicts on hypotheses (:mod:`search.analysis._hypotheses`) from a study's trials.

:func:`evaluate` splits the COMPLETE trials by the hypothesis's condition and compares the
objective between the two groups with a two-sided Mann-Whitney U test. Objectives are maximized
(the service creates every study that way), so "improves" means "higher".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial, TrialState
from scipy.stats import mannwhitneyu

from common._cli import UserError
from search import _attrs as attrs
from search.analysis._hypotheses import Hypothesis

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"

MIN_PER_GROUP = 3  # Mann-Whitney needs a few values per side to say anything
ALPHA = 0.1  # a search is exploratory: p < 0.1 is worth a look, not a publication


@dataclass(frozen=True)
class Group:
    """The COMPLETE trials on one side of the condition and their objective values."""

    trials: tuple[int, ...]
    values: tuple[float, ...]
    pruned: int  # PRUNED trials on this side: left out of the test, shown for context
    pruned_trials: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        return len(self.values)

    def summary(self) -> dict[str, Any]:
        stats = {"n": self.n, "mean": None, "median": None, "best": None}
        if self.values:
            stats |= {
                "mean": statistics.fmean(self.values),
                "median": statistics.median(self.values),
                "best": max(self.values),
            }
        return {
            **stats,
            "pruned": self.pruned,
            "trials": list(self.trials),
            "values": list(self.values),
            "pruned_trials": list(self.pruned_trials),
        }


@dataclass(frozen=True)
class Verdict:
    """What the trials say about one hypothesis."""

    hypothesis: Hypothesis
    verdict: str
    reason: str
    with_condition: Group
    without_condition: Group
    difference: float | None  # mean with - mean without
    p_value: float | None
    importance: float | None

    def to_json(self) -> dict[str, Any]:
        h = self.hypothesis
        return {
            "text": h.text,
            "checked": True,
            "param": h.param,
            "condition": h.condition,
            "objective": h.objective,
            "expects": "higher" if h.sign > 0 else "lower",
            "verdict": self.verdict,
            "reason": self.reason,
            "with_condition": self.with_condition.summary(),
            "without_condition": self.without_condition.summary(),
            "difference": self.difference,
            "p_value": self.p_value,
            "importance": self.importance,
        }


def evaluate(
    hypothesis: Hypothesis,
    trials: Sequence[FrozenTrial],
    objectives: Sequence[str],
    importances: Mapping[str, float] | None = None,
) -> Verdict:
    """Compare ``hypothesis.objective`` between the trials where the condition holds and the rest.

    ``objectives`` names the study's values in order; ``importances`` (parameter -> importance
    for this objective), when given, supplies the parameter's importance. A trial's parameter is
    read from its ``"hparams"`` attribute, then its params; trials lacking it are left out.
    """
    if hypothesis.objective not in objectives:
        raise UserError(
            f"hypothesis {hypothesis.text!r}: {hypothesis.objective} is not an objective of "
            f"this study ({', '.join(objectives)})"
        )
    index = list(objectives).index(hypothesis.objective)
    sides: dict[bool, tuple[list[int], list[float], list[int]]] = {
        True: ([], [], []),
        False: ([], [], []),
    }
    for trial in trials:
        value = param_value(trial, hypothesis.param)
        if value is None or trial.state not in (TrialState.COMPLETE, TrialState.PRUNED):
            continue
        numbers, values, pruned = sides[hypothesis.holds(value)]
        if trial.state == TrialState.PRUNED:
            pruned.append(trial.number)
        elif trial.values is not None:
            numbers.append(trial.number)
            values.append(float(trial.values[index]))
    with_, without = (
        Group(tuple(n), tuple(v), len(p), tuple(p)) for n, v, p in (sides[True], sides[False])
    )
    importance = None if importances is None else importances.get(hypothesis.param)
    verdict, reason, p_value = _decide(hypothesis, with_, without)
    difference = None
    if with_.n and without.n:
        difference = statistics.fmean(with_.values) - statistics.fmean(without.values)
    return Verdict(hypothesis, verdict, reason, with_, without, difference, p_value, importance)


def _decide(hypothesis: Hypothesis, with_: Group, without: Group) -> tuple[str, str, float | None]:
    """(verdict, why, p-value): two-sided Mann-Whitney U at :data:`ALPHA`; the direction of the
    effect is the U statistic's (the chance that a trial with the condition beats one without)."""
    if with_.n < MIN_PER_GROUP or without.n < MIN_PER_GROUP:
        return (
            INCONCLUSIVE,
            f"too few complete trials: {with_.n} with the condition, {without.n} without "
            f"(at least {MIN_PER_GROUP} each needed)",
            None,
        )
    u, p_value = mannwhitneyu(with_.values, without.values, alternative="two-sided")
    p_value = float(p_value)
    if math.isnan(p_value):  # every value equal
        p_value = 1.0
    higher = float(u) / (with_.n * without.n)
    if p_value >= ALPHA:
        return INCONCLUSIVE, f"no clear difference (p = {p_value:.3g} >= {ALPHA})", p_value
    direction = 1 if higher > 0.5 else -1
    word = "higher" if direction > 0 else "lower"
    reason = (
        f"{hypothesis.objective} is {word} with {hypothesis.condition} "
        f"(p = {p_value:.3g}; a trial with it beats one without {higher:.0%} of the time)"
    )
    return (SUPPORTED if direction == hypothesis.sign else CONTRADICTED), reason, p_value


def param_value(trial: FrozenTrial, param: str) -> Any:
    """The trial's value of ``param``: its full hyperparameters first, then its sampled params."""
    if param == "model":
        return attrs.trial_model(trial)
    hparams = attrs.trial_hparams(trial)
    if isinstance(hparams, Mapping) and param in hparams:
        return hparams[param]
    return trial.params.get(param)

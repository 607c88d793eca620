"""Hypotheses a team writes in words, checked against a study's trials where the words allow.

A checkable hypothesis is one line of this grammar (keywords are case-insensitive)::

    PARAM OP VALUE VERB OBJECTIVE
    focal_gamma > 1 improves micro_f1
    max_len == 256 hurts auprc
    markers == typed_punct helps f1

``PARAM`` is a hyperparameter (``objectives.hparams.HParams`` field, a short alias such as ``lr``,
or ``model``), ``OP`` one of ``> >= < <= == !=`` (``=`` reads as ``==``), ``VALUE`` a number or a
word, ``VERB`` ``improves``, ``helps`` or ``hurts``, ``OBJECTIVE`` ``f1`` / ``micro_f1`` or
``auprc``. Anything else is free text: :func:`parse_hypothesis` returns ``None`` and the report
says it cannot be checked automatically.

:func:`evaluate` splits the COMPLETE trials by the condition and compares the objective between
the two groups with a two-sided Mann-Whitney U test. Objectives are maximized (the service
creates every study that way), so "improves" means "higher".
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optuna.trial import FrozenTrial, TrialState
from scipy.stats import mannwhitneyu

from common.cli import UserError
from objectives.encoding.markers import SCHEMES
from objectives.hparams import POOLINGS, HParams
from search import attrs

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"

MIN_PER_GROUP = 3  # Mann-Whitney needs a few values per side to say anything
ALPHA = 0.1  # a search is exploratory: p < 0.1 is worth a look, not a publication

OBJECTIVE_ALIASES = {
    "f1": "micro_f1",
    "micro_f1": "micro_f1",
    "micro-f1": "micro_f1",
    "microf1": "micro_f1",
    "auprc": "auprc",
}
PARAM_ALIASES = {
    "lr": "learning_rate",
    "warmup": "warmup_ratio",
    "epochs": "num_train_epochs",
    "batch_size": "per_device_train_batch_size",
    "gamma": "focal_gamma",
    "label_smoothing": "label_smoothing_factor",
}
VERB_SIGNS = {"improves": 1, "improve": 1, "helps": 1, "help": 1, "hurts": -1, "hurt": -1}
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_CHOICES = {"markers": SCHEMES, "pooling": POOLINGS}
_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(HParams)}
PARAMS = (*_FIELD_TYPES, "model")

_GRAMMAR = re.compile(
    r"""^\s*(?P<param>[A-Za-z_][\w.]*)\s*
    (?P<op>>=|<=|==|!=|>|<|=)\s*
    (?P<value>"[^"]*"|'[^']*'|[^\s"']+)\s+
    (?P<verb>[A-Za-z]+)\s+
    (?P<objective>[A-Za-z_][\w-]*)\s*\.?\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Hypothesis:
    """``param op value`` moves ``objective`` in the direction ``sign`` (+1 improves, -1 hurts)."""

    text: str
    param: str
    op: str
    value: float | str
    sign: int
    objective: str

    @property
    def condition(self) -> str:
        return f"{self.param} {self.op} {_fmt(self.value)}"

    def holds(self, value: Any) -> bool:
        """Whether a trial whose parameter is ``value`` satisfies the condition."""
        if isinstance(self.value, str):
            return OPERATORS[self.op](str(value), self.value)
        return OPERATORS[self.op](float(value), self.value)


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


def parse_hypothesis(text: str) -> Hypothesis | None:
    """Parse one hypothesis; ``None`` for free text outside the grammar.

    Raises :class:`UserError` naming the parameter, value or objective when the text has the
    grammar's shape but names something unknown (so a typo is not silently left unchecked).
    """
    match = _GRAMMAR.match(text)
    if match is None or match["verb"].lower() not in VERB_SIGNS:
        return None
    where = f"--hypothesis {text.strip()!r}"
    param = _param(where, match["param"])
    op = "==" if match["op"] == "=" else match["op"]
    value = _value(where, param, op, match["value"])
    word = match["objective"].lower()
    objective = OBJECTIVE_ALIASES.get(word)
    if objective is None:
        known = ", ".join(sorted(set(OBJECTIVE_ALIASES) - {"micro-f1", "microf1"}))
        raise UserError(f"{where}: unknown objective {word!r}; known: {known}")
    sign = VERB_SIGNS[match["verb"].lower()]
    return Hypothesis(text.strip(), param, op, value, sign, objective)


def check_hypothesis(text: str, objectives: Sequence[str]) -> Hypothesis | None:
    """:func:`parse_hypothesis`, and the objective must be one the study optimizes.

    For ``search.run`` to reject a bad ``--hypothesis`` before anything is written.
    """
    hypothesis = parse_hypothesis(text)
    if hypothesis is not None and hypothesis.objective not in objectives:
        raise UserError(
            f"--hypothesis {text.strip()!r}: {hypothesis.objective} is not an objective of this "
            f"study ({', '.join(objectives)})"
        )
    return hypothesis


def _param(where: str, word: str) -> str:
    name = PARAM_ALIASES.get(word.lower(), word)
    if name not in PARAMS:
        raise UserError(f"{where}: unknown parameter {word!r}; known: {', '.join(PARAMS)}")
    return name


def _value(where: str, param: str, op: str, raw: str) -> float | str:
    quoted = raw[:1] in "\"'"
    text = raw[1:-1] if quoted else raw
    numeric = _FIELD_TYPES.get(param) in ("int", "float")
    if not numeric:
        if op not in ("==", "!="):
            raise UserError(f"{where}: {param} is a choice; use == or !=, not {op}")
        choices = _CHOICES.get(param)
        if choices is not None and text not in choices:
            raise UserError(f"{where}: {param} {text!r} is not one of {', '.join(choices)}")
        return text
    try:
        number = float(text)
    except ValueError:
        raise UserError(f"{where}: {param} is a number, got {text!r}") from None
    if not math.isfinite(number):
        raise UserError(f"{where}: {param} needs a finite number, got {text!r}")
    return number


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


def _fmt(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value

"""Hypotheses a team writes in words, checked against a study's trials where the words allow.

A checkable hypothesis is one line of this grammar (keywords are case-insensitive)::

    PARAM OP VALUE VERB OBJECTIVE
    focal_gamma > 1 improves micro_f1
    max_len == 256 hurts auprc
    markers == typed_punct helps f1

``PARAM`` is a hyperparameter (``objectives._hparams.HParams`` field, a short alias such as ``lr``,
or ``model``), ``OP`` one of ``> >= < <= == !=`` (``=`` reads as ``==``), ``VALUE`` a number or a
word, ``VERB`` ``improves``, ``helps`` or ``hurts``, ``OBJECTIVE`` ``f1`` / ``micro_f1`` or
``auprc``. Anything else is free text: :func:`parse_hypothesis` returns ``None`` and the report
says it cannot be checked automatically. :mod:`search.analysis._verdicts` checks a parsed
hypothesis against a study's trials.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from common._cli import UserError
from objectives._hparams import POOLINGS, HParams
from objectives.encoding._markers import SCHEMES

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


def _fmt(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value

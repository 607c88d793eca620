"""The search space: which hyperparameters a study varies and over what, read from TOML.

A space file has one table per parameter, named as the hyperparameter (and ``model``)::

    [learning_rate]
    low = 1e-5
    high = 3e-4
    log = true

    [num_train_epochs]          # integer bounds make an integer parameter
    low = 1
    high = 4

    [markers]
    choices = ["typed_punct", "entity"]

    [label_smoothing_factor]
    value = 0.0                 # fixed: recorded, not searched

Every problem is reported with the file and the parameter before any study exists.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from objectives.errors import UserError
from objectives.hparams import HParams
from objectives.models import TINY

SEARCHABLE = (*(f.name for f in dataclasses.fields(HParams)), "model")


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False
    step: float | None = None


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False
    step: int = 1


@dataclass(frozen=True)
class Choice:
    choices: tuple[Any, ...]


@dataclass(frozen=True)
class Fixed:
    value: Any


Param = FloatRange | IntRange | Choice | Fixed


@dataclass(frozen=True)
class Space:
    """Parameters by name, in file order; ``source`` names the file for messages and records."""

    params: dict[str, Param]
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            name: {"kind": type(p).__name__, **dataclasses.asdict(p)}
            for name, p in self.params.items()
        }

    def models(self) -> list[str] | None:
        """The model choices the space lists, or None when it does not vary the model."""
        param = self.params.get("model")
        if isinstance(param, Choice):
            return [str(c) for c in param.choices]
        if isinstance(param, Fixed):
            return [str(param.value)]
        return None


def default_space_path(model: str = "") -> Path:
    """The shipped space: the tiny model's own for ``tiny``, else the pretrained encoders'."""
    name = "tiny_space.toml" if model == TINY else "default_space.toml"
    return Path(str(resources.files("search").joinpath(name)))


def load_space(path: str | Path | None = None, model: str = "") -> Space:
    """Read and check a space file (the shipped one for ``model`` when ``path`` is None)."""
    path = Path(path) if path is not None else default_space_path(model)
    where = f"--space {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{where}: file not found") from None
    except UnicodeDecodeError:
        raise UserError(f"{where}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{where}: bad TOML: {exc}") from None
    if not data:
        raise UserError(f"{where}: no parameters")
    params = {name: parse_param(where, name, spec) for name, spec in data.items()}
    space = Space(params, str(path))
    _check_values(where, space)
    return space


def parse_param(where: str, name: str, spec: Any) -> Param:
    """One parameter's table, checked: known name, consistent keys, sane bounds."""
    if name not in SEARCHABLE:
        raise UserError(f"{where}: unknown parameter {name!r}; known: {', '.join(SEARCHABLE)}")
    where = f"{where}: [{name}]"
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected a table (low/high, choices or value)")
    keys = set(spec)
    if "value" in keys:
        _only(where, keys, {"value"})
        return Fixed(spec["value"])
    if "choices" in keys:
        _only(where, keys, {"choices"})
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise UserError(f"{where}: choices must be a non-empty list")
        if len(set(map(repr, choices))) != len(choices):
            raise UserError(f"{where}: choices repeat a value")
        return Choice(tuple(choices))
    _only(where, keys, {"low", "high", "log", "step"})
    if "low" not in keys or "high" not in keys:
        raise UserError(f"{where}: needs low and high, choices, or value")
    low, high, log, step = spec["low"], spec["high"], spec.get("log", False), spec.get("step")
    for key, value in (("low", low), ("high", high)):
        if not _number(value):
            raise UserError(f"{where}: {key} must be a finite number, got {value!r}")
    if not isinstance(log, bool):
        raise UserError(f"{where}: log must be true or false")
    if low > high:
        raise UserError(f"{where}: low {low} is above high {high}")
    if log and low <= 0:
        raise UserError(f"{where}: a log range must stay above 0, got low {low}")
    if step is not None and not (_number(step) and step > 0):
        raise UserError(f"{where}: step must be a positive number")
    if log and step is not None:
        raise UserError(f"{where}: log and step cannot be combined")
    if _integer_param(name, low, high, step):
        return IntRange(int(low), int(high), log, int(step or 1))
    return FloatRange(float(low), float(high), log, None if step is None else float(step))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer_param(name: str, low: Any, high: Any, step: Any) -> bool:
    field = {f.name: f for f in dataclasses.fields(HParams)}.get(name)
    if field is not None and str(field.type) == "int":
        return True
    return all(isinstance(v, int) for v in (low, high)) and (step is None or isinstance(step, int))


def _only(where: str, keys: set[str], allowed: set[str]) -> None:
    extra = sorted(keys - allowed)
    if extra:
        raise UserError(f"{where}: unexpected key {extra[0]!r} (allowed here: {sorted(allowed)})")


def _check_values(where: str, space: Space) -> None:
    """Every value the space can produce must make valid hyperparameters."""
    for name, param in space.params.items():
        if name == "model":
            continue
        for value in _corners(param):
            try:
                HParams(**{name: value})
            except UserError as exc:
                raise UserError(f"{where}: [{name}]: {str(exc).split(': ', 1)[-1]}") from None
            except TypeError:
                raise UserError(f"{where}: [{name}]: value {value!r} has the wrong type") from None


def _corners(param: Param) -> list[Any]:
    if isinstance(param, (FloatRange, IntRange)):
        return [param.low, param.high]
    if isinstance(param, Choice):
        return list(param.choices)
    return [param.value]

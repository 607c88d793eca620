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

    [model]                     # models are a choice too (NAME+tapt: NAME after TAPT)
    choices = ["klue/roberta-base", "klue/roberta-large"]

    [learning_rate.by_model]    # a range of its own for some models (low, high or both)
    "klue/roberta-large" = { low = 5e-6, high = 3e-5 }

A ``by_model`` entry overrides only the bounds: the log flag and step stay the parameter's, since
Optuna refuses a parameter whose log flag changes between trials. An entry for NAME also serves
``NAME+tapt`` unless that has its own.

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

from common._cli import UserError
from common._files import read_text
from objectives._hparams import HParams
from objectives.models._resolve import TINY, tapt_base

SEARCHABLE = (*(f.name for f in dataclasses.fields(HParams)), "model")


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False
    step: float | None = None
    by_model: dict[str, FloatRange] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False
    step: int = 1
    by_model: dict[str, IntRange] = dataclasses.field(default_factory=dict)


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

    def param_for(self, name: str, model: str | None) -> Param:
        """``name``'s parameter for trials of ``model``: its ``by_model`` range where it has one
        for the model (or for the model that ``model`` adapts with ``+tapt``)."""
        param = self.params[name]
        overrides = getattr(param, "by_model", None)
        if not overrides or model is None:
            return param
        if model in overrides:
            return overrides[model]
        base = _tapt_base(model)
        return overrides.get(base, param) if base is not None else param


def default_space_path(model: str = "") -> Path:
    """The shipped space: the tiny model's own for ``tiny`` (and ``tiny+tapt``), else the
    pretrained encoders'."""
    tiny = TINY in (model, _tapt_base(model))
    name = "tiny_space.toml" if tiny else "default_space.toml"
    return Path(str(resources.files("search").joinpath(name)))


def load_space(path: str | Path | None = None, model: str = "") -> Space:
    """Read and check a space file (the shipped one for ``model`` when ``path`` is None)."""
    path = Path(path) if path is not None else default_space_path(model)
    where = f"--space {path}"
    text = read_text(path, "file", where)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{where}: bad TOML: {exc}") from None
    if not data:
        raise UserError(f"{where}: no parameters")
    params = {name: parse_param(where, name, spec) for name, spec in data.items()}
    space = Space(params, str(path))
    _check_models(where, space, model)
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
    _only(where, keys, {"low", "high", "log", "step", "by_model"})
    if "low" not in keys or "high" not in keys:
        raise UserError(f"{where}: needs low and high, choices, or value")
    base = _range(where, name, spec)
    overrides = spec.get("by_model", {})
    if not isinstance(overrides, dict):
        raise UserError(f"{where}: by_model must be a table of model = {{ low, high }}")
    by_model = {}
    for model, bounds in overrides.items():
        at = f"{where[:-1]}.by_model] {model!r}"
        if not isinstance(bounds, dict) or not bounds:
            raise UserError(f"{at}: expected {{ low = ..., high = ... }}")
        _only(at, set(bounds), {"low", "high"})
        merged = {"low": base.low, "high": base.high, "log": base.log, "step": spec.get("step")}
        by_model[model] = _range(at, name, {**merged, **bounds}, type(base))
    return dataclasses.replace(base, by_model=by_model)


def _range(
    where: str, name: str, spec: dict[str, Any], kind: type | None = None
) -> FloatRange | IntRange:
    """A low/high range, checked; ``kind`` forces the type (a by_model entry keeps its base's)."""
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
    if kind is IntRange or (kind is None and _integer_param(name, low, high, step)):
        return IntRange(int(low), int(high), log, int(step or 1))
    return FloatRange(float(low), float(high), log, None if step is None else float(step))


def _tapt_base(model: str) -> str | None:
    try:
        return tapt_base(model)
    except UserError:
        return None


def _check_models(where: str, space: Space, model: str) -> None:
    """Model choices must be model names; by_model entries must name one of the study's models.

    The study's models are the space's ``[model]`` values, else ``model`` (the --model flag).
    """
    models = space.models()
    for name in models or []:
        try:
            tapt_base(name)
        except UserError:
            raise UserError(
                f"{where}: [model]: {name!r} is not a model name ('+tapt' must follow one, as "
                "in tiny+tapt)"
            ) from None
    known = models or ([model] if model else [])
    if not known:
        return
    known_set = set(known) | {b for b in map(_tapt_base, known) if b is not None}
    for param_name, param in space.params.items():
        for entry in getattr(param, "by_model", {}):
            if entry not in known_set:
                raise UserError(
                    f"{where}: [{param_name}.by_model]: {entry!r} is not one of the study's "
                    f"models ({', '.join(known)})"
                )


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
        ranges = [param, *param.by_model.values()]
        return [value for r in ranges for value in (r.low, r.high)]
    if isinstance(param, Choice):
        return list(param.choices)
    return [param.value]

"""What one trial varies (:class:`HParams`) and how it runs (:class:`RunSettings`), validated once.

Field names follow transformers' ``TrainingArguments`` where one exists, so the same names work as
CLI flags, in ``--config`` files, in search spaces and in exported best configurations.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common._cli import UserError
from common._files import read_text
from objectives.encoding._markers import SCHEMES

POOLINGS = ("cls", "entity_start")
PRECISIONS = ("auto", "fp16", "bf16", "no")
AUGMENTATIONS = ("aug_entity_swap", "aug_aeda", "aug_marker_dropout")
# transformers.get_scheduler's names that need nothing beyond warm-up and total steps
SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
)


@dataclass(frozen=True)
class HParams:
    """The hyperparameters of one fine-tuning run (what a search varies)."""

    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    # transformers 5 spells the ratio ``warmup_steps`` < 1; here warmup_steps counts steps and,
    # above 0, replaces the ratio. to_dict() gives transformers' spelling (see warmup_values)
    warmup_steps: int = 0
    lr_scheduler_type: str = "linear"
    max_grad_norm: float = 1.0  # 0: no clipping
    gradient_accumulation_steps: int = 1  # an optimizer step sees the batch size times this
    num_train_epochs: float = 3.0
    per_device_train_batch_size: int = 32
    weight_decay: float = 0.01
    focal_gamma: float = 0.0
    label_smoothing_factor: float = 0.0
    max_len: int = 128
    markers: str = "typed_punct"
    pooling: str = "cls"
    seed: int = 42
    # training-data augmentation (objectives/data/_augment.py), each a probability; 0 is off
    aug_entity_swap: float = 0.0
    aug_aeda: float = 0.0
    aug_marker_dropout: float = 0.0

    def __post_init__(self) -> None:
        _check_hparams(self)

    def to_dict(self) -> dict[str, Any]:
        """Every field; ``warmup_steps`` as transformers 5 reads it (the ratio when below 1), so
        ``HfArgumentParser(TrainingArguments).parse_dict(d, allow_extra_keys=True)`` agrees."""
        values = dataclasses.asdict(self)
        if not self.warmup_steps:
            values["warmup_steps"] = self.warmup_ratio
        return values

    def warmup(self, total_steps: int) -> int:
        """Warm-up steps of a run of ``total_steps``."""
        return self.warmup_steps or math.floor(self.warmup_ratio * total_steps)

    def augmentation(self) -> dict[str, float | int] | None:
        """``objectives.data._augment.augment_train``'s keyword arguments; None when all are off."""
        if not any(getattr(self, name) > 0 for name in AUGMENTATIONS):
            return None
        return {
            "entity_swap_p": self.aug_entity_swap,
            "aeda_p": self.aug_aeda,
            "marker_dropout_p": self.aug_marker_dropout,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class RunSettings:
    """How a run executes: model, device, precision, evaluation cadence, outputs (not searched)."""

    model: str = "tiny"
    device: str = "auto"
    precision: str = "auto"
    eval_steps: int | None = None
    evals_per_epoch: int = 4
    evals_per_run: int | None = None  # instead of per epoch: at equal fractions of the run
    eval_batch_size: int = 128
    max_micro_batch_size: int | None = None
    output_dir: Path | None = None
    save_checkpoint: bool = False
    cache_dir: Path | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise UserError(f"--precision: {self.precision!r} is not one of {choices}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise UserError(f"--device: {self.device!r} is not auto, cpu, cuda or cuda:N")
        for name in ("eval_steps", "evals_per_run", "max_micro_batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"--{name}: must be at least 1, got {value}")
        if self.evals_per_epoch < 1:
            raise UserError(f"--evals_per_epoch: must be at least 1, got {self.evals_per_epoch}")
        if self.eval_batch_size < 1:
            raise UserError(f"--eval_batch_size: must be at least 1, got {self.eval_batch_size}")


def _check_hparams(hp: HParams) -> None:
    unit = "must be in [0, 1)"
    checks: list[tuple[str, bool, str]] = [
        ("learning_rate", _finite(hp.learning_rate) and hp.learning_rate > 0, "must be > 0"),
        ("warmup_ratio", _finite(hp.warmup_ratio) and 0 <= hp.warmup_ratio < 1, unit),
        ("num_train_epochs", _finite(hp.num_train_epochs) and hp.num_train_epochs > 0, "> 0"),
        ("per_device_train_batch_size", _int(hp.per_device_train_batch_size, 1), "must be >= 1"),
        ("weight_decay", _finite(hp.weight_decay) and hp.weight_decay >= 0, "must be >= 0"),
        ("focal_gamma", _finite(hp.focal_gamma) and hp.focal_gamma >= 0, "must be >= 0"),
        (
            "label_smoothing_factor",
            _finite(hp.label_smoothing_factor) and 0 <= hp.label_smoothing_factor < 1,
            unit,
        ),
        ("max_len", _int(hp.max_len, 8), "must be an integer >= 8"),
        ("seed", _int(hp.seed, 0), "must be an integer >= 0"),
        ("warmup_steps", _int(hp.warmup_steps, 0), "must be an integer >= 0, or a ratio < 1"),
        ("max_grad_norm", _finite(hp.max_grad_norm) and hp.max_grad_norm >= 0, "must be >= 0"),
        ("gradient_accumulation_steps", _int(hp.gradient_accumulation_steps, 1), "must be >= 1"),
        *((name, _probability(getattr(hp, name)), "must be in [0, 1]") for name in AUGMENTATIONS),
    ]
    for name, ok, rule in checks:
        if not ok:
            rule = rule if rule.startswith("must") else f"must be {rule}"
            raise UserError(f"--{name}: {rule}, got {getattr(hp, name)!r}")
    if hp.lr_scheduler_type not in SCHEDULERS:
        raise UserError(
            f"--lr_scheduler_type: {hp.lr_scheduler_type!r} is not one of {', '.join(SCHEDULERS)}"
        )
    if hp.markers not in SCHEMES:
        raise UserError(f"--markers: {hp.markers!r} is not one of {', '.join(SCHEMES)}")
    if hp.pooling not in POOLINGS:
        raise UserError(f"--pooling: {hp.pooling!r} is not one of {', '.join(POOLINGS)}")
    if hp.pooling == "entity_start" and hp.markers == "none":
        raise UserError("--pooling entity_start needs entity markers (--markers is none)")


def _probability(value: object) -> bool:
    return _finite(value) and 0 <= value <= 1  # type: ignore[operator]


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def hparams_from_mapping(
    values: dict[str, Any], where: str, base: HParams | None = None
) -> HParams:
    """Build HParams from a mapping (a config file, a study's best trial), naming unknown keys."""
    known = {f.name: f for f in dataclasses.fields(HParams)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        names = ", ".join(known)
        raise UserError(f"{where}: unknown hyperparameter {unknown[0]!r}; known: {names}")
    merged = dataclasses.asdict(base or HParams())
    for name, value in warmup_values(values, where).items():
        merged[name] = _coerce(where, name, value, known[name].type)
    return HParams(**merged)


def warmup_values(values: dict[str, Any], where: str) -> dict[str, Any]:
    """``values`` with transformers 5's ``warmup_steps`` < 1 read as ``warmup_ratio``.

    A config may carry both (``HParams.to_dict`` writes both): they must then agree."""
    steps = values.get("warmup_steps")
    if not isinstance(steps, (int, float)) or isinstance(steps, bool) or not 0 < steps < 1:
        return values
    ratio = values.get("warmup_ratio", steps)
    if ratio != steps:
        raise UserError(
            f"{where}: warmup_steps {steps} (a ratio below 1) and warmup_ratio {ratio} disagree; "
            "give one"
        )
    return {**values, "warmup_ratio": float(steps), "warmup_steps": 0}


def _coerce(where: str, name: str, value: Any, annotation: object) -> Any:
    kind = str(annotation)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = {"int": int, "float": float, "str": str}.get(kind)
    if isinstance(value, bool) or (expected is not None and not isinstance(value, expected)):
        raise UserError(f"{where}: {name}: expected {kind}, got {value!r}")
    return value


def read_config(path: str | Path) -> dict[str, Any]:
    """Read a run configuration (JSON or TOML): hyperparameter names as keys.

    A file exported by the search report has the hyperparameters under ``"hparams"`` and may
    carry ``"model"``; both shapes are accepted.
    """
    path = Path(path)
    text = read_text(path, "file", where=f"--config {path}")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"--config {path}: cannot parse: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"--config {path}: expected a mapping of hyperparameters")
    return data

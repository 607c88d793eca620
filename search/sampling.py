"""Samplers, turning the search space into suggestions, and the KLUE paper's recipe as trial 0."""

from __future__ import annotations

import warnings
from typing import Any

import optuna

from objectives.errors import UserError
from search.space import Choice, Fixed, FloatRange, IntRange, Space

SAMPLERS = ("tpe", "nsga2", "random", "gp")


def make_sampler(name: str, seed: int | None) -> optuna.samplers.BaseSampler:
    """A sampler for parallel workers: TPE with the constant liar (running trials count as
    pessimistic results, so workers do not all sample the same point), NSGA-II, random or GP."""
    if name == "tpe":
        return PrunedAwareTPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=8
        )
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=8)
    raise UserError(f"--sampler: {name!r} is not one of {', '.join(SAMPLERS)}")


class _FirstDirection:
    """A study as TPE's pruned-trial ranking needs it: ``direction`` is the first objective's.

    Optuna's TPE ranks PRUNED trials by their last intermediate value through
    ``study.direction``, which a multi-objective study refuses. Optuna itself never gives such
    trials intermediate values, but MO-ASHA does (the first objective's learning curve), so the
    ranking is by the first objective at the deepest step reached: a sound order for TPE's
    "good" and "bad" groups. Everything else is the study itself.
    """

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    @property
    def direction(self) -> optuna.study.StudyDirection:
        return self._study.directions[0]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


class PrunedAwareTPESampler(optuna.samplers.TPESampler):
    """TPE that also works on multi-objective studies with pruned trials (see _FirstDirection)."""

    def sample_relative(self, study, trial, search_space):
        return super().sample_relative(_wrap(study), trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return super().sample_independent(_wrap(study), trial, param_name, param_distribution)


def _wrap(study: optuna.Study) -> optuna.Study:
    return _FirstDirection(study) if len(study.directions) > 1 else study  # type: ignore[return-value]


def suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """One value per parameter of the space; fixed ones are returned as they are."""
    with warnings.catch_warnings():
        # the KLUE recipe is enqueued as it is, even where it lies outside the space
        warnings.filterwarnings("ignore", message="Fixed parameter .* is out of range")
        return _suggest(trial, space)


def _suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, p in space.params.items():
        if isinstance(p, FloatRange):
            params[name] = trial.suggest_float(name, p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, IntRange):
            params[name] = trial.suggest_int(name, p.low, p.high, log=p.log, step=p.step)
        elif isinstance(p, Choice):
            params[name] = trial.suggest_categorical(name, list(p.choices))
        elif isinstance(p, Fixed):
            params[name] = p.value
    return params


# KLUE-baseline's fine-tuning recipe for KLUE-RE (its run_all.sh): small/base models and large.
_RECIPES = {
    "base": {
        "learning_rate": 5e-5,
        "num_train_epochs": 3,
        "per_device_train_batch_size": 32,
        "warmup_ratio": 0.1,
        "max_len": 256,
    },
    "large": {
        "learning_rate": 2e-5,
        "num_train_epochs": 10,
        "per_device_train_batch_size": 16,
        "warmup_ratio": 0.2,
        "max_len": 256,
    },
}
_RECIPE_COMMON = {
    "weight_decay": 0.0,
    "focal_gamma": 0.0,
    "label_smoothing_factor": 0.0,
    "markers": "entity",
    "pooling": "cls",
    # the paper trains on the data as it is
    "aug_entity_swap": 0.0,
    "aug_aeda": 0.0,
    "aug_marker_dropout": 0.0,
}


def klue_recipe(model: str, space: Space) -> dict[str, Any]:
    """The paper's configuration for ``model``'s size, as close as the space allows.

    A value outside a range is clipped into it, and a categorical that lacks the recipe's value
    takes its first choice: a trial outside the space's distributions could not be retried
    (Optuna validates a retried trial's parameters) and would mislead the sampler.
    """
    size = "large" if "large" in model.lower() else "base"
    recipe = {**_RECIPES[size], **_RECIPE_COMMON}
    params: dict[str, Any] = {}
    for name, p in space.params.items():
        if name == "model":
            if isinstance(p, Choice):
                params[name] = model if model in p.choices else p.choices[0]
            continue
        if name not in recipe or isinstance(p, Fixed):
            continue
        value = recipe[name]
        if isinstance(p, Choice) and value not in p.choices:
            value = p.choices[0]
        if isinstance(p, IntRange):
            value = int(min(max(value, p.low), p.high))
        elif isinstance(p, FloatRange):
            value = float(min(max(value, p.low), p.high))
        params[name] = value
    return params

"""Samplers, turning the search space into suggestions, and the KLUE paper's recipe as trial 0."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from search._space import Choice, Fixed, FloatRange, IntRange, Param, Space
from storage._liveness import RETRIED_FROM
from storage._optuna import study_trials

SAMPLERS = ("tpe", "nsga2", "random", "gp")
# how worker k of a search with --seed S seeds its sampler; the study records it beside the seed
SEED_DERIVATION = "numpy.random.SeedSequence([seed, worker]).generate_state(1)[0]"


def worker_seed(seed: int, worker: int) -> int:
    """Worker ``worker``'s sampler seed in a search seeded ``seed``: a hash of the pair, so no two
    pairs share a stream (an offset ``seed + worker`` gave worker 1 of seed S the stream of worker
    0 of seed S + 1, and searches over consecutive seeds drew the same configurations)."""
    return int(np.random.SeedSequence([seed, worker]).generate_state(1)[0])


# TPE's start-up trials before it models: with 8, a search whose first complete trials all share a
# poor choice (pooling=cls) modelled from them and never left it; 16 hedge against that, and they
# follow a design (search._design) rather than random draws (docs/concepts/efficiency.md)
TPE_STARTUP = 16


def make_sampler(
    name: str,
    seed: int | None,
    design: Sequence[Mapping[str, Any]] = (),
    explore: int = 0,
) -> optuna.samplers.BaseSampler:
    """A sampler for parallel workers: TPE with the constant liar (running trials count as
    pessimistic results, so workers do not all sample the same point) whose start-up trials
    follow ``design`` (trial number n takes point n) and whose every ``explore``-th trial after
    them is drawn at random; NSGA-II, random or GP."""
    if name == "tpe":
        return PrunedAwareTPESampler(
            seed=seed,
            multivariate=True,
            constant_liar=True,
            n_startup_trials=TPE_STARTUP,
            design=design,
            explore=explore,
        )
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=8)
    raise ValueError(f"unknown sampler {name!r}: search._config checks --sampler")


class _FirstDirection:
    """A study as TPE's pruned-trial ranking needs it: ``direction`` is the first objective's,
    and a pruned trial's curve is keyed by evaluation count.

    Optuna's TPE ranks PRUNED trials by their deepest step first, then by the value there through
    ``study.direction``, which a multi-objective study refuses. Optuna itself never gives such
    trials intermediate values, but MO-ASHA does (the first objective's learning curve, keyed by
    optimizer step). Steps do not line up across trials (a run of batch 16 and 3 epochs takes 12
    times the steps of one of batch 64 and 1 epoch), so ranked by step a trial stopped at its
    first rung could outrank one stopped at its third; keyed by evaluation count, pruned trials
    rank by the rung they reached, then by F1 at it: each compared only with trials stopped at
    the same rung. Everything else is the study itself.
    """

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    @property
    def direction(self) -> optuna.study.StudyDirection:
        return self._study.directions[0]

    def _get_trials(self, *args: Any, **kwargs: Any) -> list[FrozenTrial]:
        trials = study_trials(self._study, *args, **kwargs)
        return [by_evaluation(t) if t.state == TrialState.PRUNED else t for t in trials]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


def by_evaluation(trial: FrozenTrial) -> FrozenTrial:
    """A copy of ``trial`` whose intermediate values are keyed 1, 2, ... in step order."""
    curve = sorted(trial.intermediate_values.items())
    keyed = copy.copy(trial)
    keyed.intermediate_values = {k: value for k, (_, value) in enumerate(curve, start=1)}
    return keyed


class PrunedAwareTPESampler(optuna.samplers.TPESampler):
    """TPE that also works on multi-objective studies with pruned trials (see _FirstDirection),
    whose start-up trials take their values from a design, and which keeps exploring after them.

    Trial number n takes the values of ``design[n]`` (search._design), where the distribution
    holds them; a value the design lacks or the distribution does not hold is drawn as TPE's
    start-up draws it (at random). After the design, with ``explore`` K > 0, trial numbers K-1,
    2K-1, ... are drawn at random. Both go by trial number, so they hold across workers. A
    retried trial counts as the trial it retries (``failed_trial``): a trial failed before it
    drew its values (a storage outage at its start) leaves no point of the design untried.
    """

    def __init__(
        self,
        *args: Any,
        design: Sequence[Mapping[str, Any]] = (),
        explore: int = 0,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._design = list(design)
        self._explore = explore

    def _point(self, trial: FrozenTrial) -> int:
        point = trial.system_attrs.get(RETRIED_FROM, trial.number)
        return point if isinstance(point, int) else trial.number

    def explores(self, trial: FrozenTrial) -> bool:
        """Whether ``trial`` is drawn at random after the design."""
        n, k = self._point(trial), self._explore
        return k > 0 and n >= len(self._design) and n % k == k - 1

    def sample_relative(self, study, trial, search_space):
        if self.explores(trial):
            return {}
        return super().sample_relative(_wrap(study), trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        n = self._point(trial)
        if 0 <= n < len(self._design):
            value = self._design[n].get(param_name)
            if value is not None and _holds(param_distribution, value):
                return value
        if self.explores(trial):
            return self._random_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        return super().sample_independent(_wrap(study), trial, param_name, param_distribution)


def _holds(distribution: optuna.distributions.BaseDistribution, value: Any) -> bool:
    try:
        return distribution._contains(distribution.to_internal_repr(value))
    except (ValueError, TypeError):
        return False


def _wrap(study: optuna.Study) -> optuna.Study:
    return _FirstDirection(study) if len(study.directions) > 1 else study  # type: ignore[return-value]


def suggest(trial: optuna.Trial, space: Space, model: str | None = None) -> dict[str, Any]:
    """One value per parameter of the space; fixed ones are returned as they are.

    The model comes first (``model`` when the space does not list any), so that a parameter
    with ``by_model`` ranges is suggested from that model's range. Optuna takes one parameter
    name with different ranges in different trials (only the log flag must not change); TPE
    then samples that parameter on its own rather than jointly with the others.
    """
    with warnings.catch_warnings():
        # the KLUE recipe is enqueued as it is, even where it lies outside the space
        warnings.filterwarnings("ignore", message="Fixed parameter .* is out of range")
        params: dict[str, Any] = {}
        if "model" in space.params:
            params["model"] = _suggest_one(trial, "model", space.params["model"])
            model = str(params["model"])
        for name in space.params:
            if name != "model":
                params[name] = _suggest_one(trial, name, space.param_for(name, model))
        return params


def _suggest_one(trial: optuna.Trial, name: str, p: Param) -> Any:
    if isinstance(p, FloatRange):
        return trial.suggest_float(name, p.low, p.high, log=p.log, step=p.step)
    if isinstance(p, IntRange):
        return trial.suggest_int(name, p.low, p.high, log=p.log, step=p.step)
    if isinstance(p, Choice):
        return trial.suggest_categorical(name, list(p.choices))
    return p.value


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

    Where the space lists models, the recipe's model is ``model`` if listed, else the first
    listed. A value outside a range (that model's range, where it has one) is clipped into it,
    and a categorical that lacks the recipe's value takes its first choice: a trial outside the
    space's distributions could not be retried (Optuna validates a retried trial's parameters)
    and would mislead the sampler.
    """
    params: dict[str, Any] = {}
    chosen = space.params.get("model")
    if isinstance(chosen, Choice):
        model = params["model"] = model if model in chosen.choices else chosen.choices[0]
    elif isinstance(chosen, Fixed):
        model = str(chosen.value)
    size = "large" if "large" in model.lower() else "base"
    recipe = {**_RECIPES[size], **_RECIPE_COMMON}
    for name in space.params:
        p = space.param_for(name, model)
        if name == "model" or name not in recipe or isinstance(p, Fixed):
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

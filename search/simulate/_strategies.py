"""The strategies a replay compares, each built from the service's own parts.

A strategy names a sampler and a pruner as ``python -m search.run`` takes them (``--sampler``,
``--pruner``, ``--reduction-factor``, ``--min-resource``) and the studies' objectives; replays
build them with ``search._sampling.make_sampler`` and ``search.pruning._pruner.make_pruner``, the
functions a worker calls. ``trainer`` is what ``Trainer.hyperparameter_search(backend="optuna")``
runs: Optuna's default TPE and its default pruner (the median rule) on one objective, F1, told each
evaluation through ``trial.report`` and asked ``trial.should_prune``, each run ending with its
last evaluation (``load_best_model_at_end`` off, its default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import optuna
from optuna.samplers import BaseSampler

from common._cli import UserError
from search._config import EVALS_PER_RUN, default
from search._sampling import make_sampler
from search.pruning._pruner import Pruner, make_pruner, optuna_pruner
from search.simulate._schedule import Cadence


@dataclass(frozen=True)
class Strategy:
    name: str
    sampler: str  # a --sampler name, or "optuna-tpe" for Optuna's TPESampler as it comes
    pruner: str  # a --pruner name, or "optuna-median" for Optuna's MedianPruner as it comes
    objectives: int = 2
    reduction_factor: int = 3
    min_resource: int = 1
    min_trials: int | None = None  # MO-ASHA's: None is the reduction factor
    cadence: Cadence = field(default_factory=Cadence)
    recipe: bool = True  # trial 0 is the KLUE recipe, as search.run enqueues it
    keep_best: bool = True  # a run ends with its evaluation best by F1, or else with its last
    design: bool = True  # TPE's start-up follows the study's design (search.run --startup design)
    explore: int = default("explore")  # every explore-th TPE trial after it at random (--explore)

    def new_sampler(self, seed: int, design: Sequence[dict[str, Any]] = ()) -> BaseSampler:
        """A worker's sampler; ``design`` is the study's start-up design (TPE's, as search.run
        records it)."""
        if self.sampler == "optuna-tpe":
            return optuna.samplers.TPESampler(seed=seed)
        return make_sampler(self.sampler, seed, design, self.explore)

    def optuna_pruner(self) -> optuna.pruners.BasePruner:
        """The Optuna pruner each replayed study is opened with."""
        if self.pruner == "optuna-median":
            return optuna.pruners.MedianPruner()
        return optuna_pruner(self.pruner)

    def new_pruner(self) -> Pruner:
        """A worker's pruner (one per replayed worker)."""
        pruner = "median" if self.pruner == "optuna-median" else self.pruner
        return make_pruner(
            pruner, self.reduction_factor, self.min_resource, min_trials=self.min_trials
        )


STRATEGIES = {
    s.name: s
    for s in (
        # what search.run does unless told otherwise ("default:epoch=4" is the cadence before)
        Strategy(
            "default",
            default("sampler"),
            default("pruner"),
            reduction_factor=default("reduction_factor"),
            min_resource=default("min_resource"),
            min_trials=default("min_trials"),
            cadence=Cadence(evals_per_run=EVALS_PER_RUN),
        ),
        Strategy("random", "random", "none"),
        Strategy("tpe", "tpe", "none"),
        Strategy("random-moasha", "random", "moasha"),
        Strategy("nsga2-moasha", "nsga2", "moasha"),
        # Trainer's objective is the metric of the run's last evaluation
        Strategy(
            "trainer", "optuna-tpe", "optuna-median", objectives=1, recipe=False, keep_best=False
        ),
    )
}


def parse_strategies(text: str, base: dict[str, Strategy] | None = None) -> list[Strategy]:
    """Names separated by ``;`` or ``,``; ``NAME:eta=2,r=2,run=9`` varies a strategy's
    reduction factor, min resource and evaluations a run (``epoch=K``: K an epoch); ``design=0``
    has TPE's start-up drawn at random (``--startup random``), ``explore=N`` every N-th trial
    after it (``--explore N``, 0: none)."""
    known = base or STRATEGIES
    chosen = []
    for item in split_items(text):
        name, _, options = item.partition(":")
        if name not in known:
            raise UserError(f"--strategies: {name!r} is not one of {', '.join(known)}")
        strategy = known[name]
        label = item if options else name
        chosen.append(replace(_vary(strategy, options, item), name=label))
    if not chosen:
        raise UserError("--strategies: no strategy named")
    return chosen


def split_items(text: str) -> list[str]:
    """Items separated by ``;`` or ``,`` alike: a comma-separated ``key=value`` belongs to the
    options of the item before it (``default:eta=2,r=2,random`` is two items)."""
    items: list[str] = []
    for chunk in text.split(";"):
        for part in (p.strip() for p in chunk.split(",")):
            if not part:
                continue
            if items and "=" in part and ":" not in part and ":" in items[-1]:
                items[-1] += "," + part
            else:
                items.append(part)
    return items


def _vary(strategy: Strategy, options: str, item: str) -> Strategy:
    for option in [o for o in options.split(",") if o]:
        key, _, value = option.partition("=")
        if key == "design" and value in ("0", "1"):
            strategy = replace(strategy, design=value == "1")
            continue
        if key == "explore" and value.isdigit():
            strategy = replace(strategy, explore=int(value))
            continue
        if key not in ("eta", "r", "run", "epoch") or not value.isdigit() or int(value) < 1:
            raise UserError(
                f"--strategies: {item!r}: {option!r} is not eta=N, r=N, run=N, epoch=N, "
                "design=0|1 or explore=N"
            )
        n = int(value)
        if key == "eta":
            if n < 2:
                raise UserError(f"--strategies: {item!r}: eta must be at least 2")
            strategy = replace(strategy, reduction_factor=n)
        elif key == "r":
            strategy = replace(strategy, min_resource=n)
        elif key == "run":
            strategy = replace(strategy, cadence=Cadence(evals_per_run=n))
        else:
            strategy = replace(strategy, cadence=Cadence(evals_per_epoch=n))
    return strategy

"""A search's configuration: built once from the command line, checked, then never changed."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common._cli import UserError
from objectives._hparams import PRECISIONS
from objectives.data._labels import NO_RELATION
from search._sampling import SAMPLERS
from search.pruning._pruner import PRUNERS

# CLI names of the objectives -> the metric names a run reports.
OBJECTIVES = {"f1": "micro_f1", "auprc": "auprc"}
REAL_RUNNER = "real"
RUNNER_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


# The evaluation cadence search.run uses unless told: 12 evaluations at equal fractions of each
# run (the k-th evaluation of every run at the same point of its schedule). Chosen by replaying
# the committed learning-curve table: README, "How efficient is the search".
EVALS_PER_RUN = 12
STARTUPS = ("design", "random")


@dataclass(frozen=True)
class SearchPlan:
    """What to search: the model, the space and how it is sampled, pruned and budgeted."""

    trials: int
    model: str
    space: str | None = None
    sampler: str = "tpe"
    # TPE's 16 start-up trials: a design that tries every pair of categorical choices
    # (search._design), or "random" draws as Optuna's TPE makes them
    startup: str = "design"
    # after the start-up, every explore-th TPE trial is drawn at random (0: none), as BOHB and SMAC
    # interleave random configurations: a model misled by its first good trials (the best pair of
    # choices tried only at a poor learning rate) still gets evidence from elsewhere
    explore: int = 3
    pruner: str = "moasha"
    objectives: tuple[str, ...] = ("micro_f1", "auprc")
    hypotheses: tuple[str, ...] = ()  # --hypothesis, repeatable; each is checked in search.run
    timeout: float | None = None
    seed: int | None = None
    reduction_factor: int = 3
    # the first rung at the 3rd of 12 evaluations: at the 1st, most runs still score a constant
    # predictor's F1 (README, "A first search that does not lock in")
    min_resource: int = 3
    min_trials: int = 3  # MO-ASHA stops nobody at a rung holding fewer results (its own included)
    evals_per_epoch: int = 4
    evals_per_run: int | None = None
    eval_steps: int | None = None
    # "real" (objectives.training._loop.fine_tune) or MODULE:FUNCTION with its signature
    runner: str = REAL_RUNNER

    def __post_init__(self) -> None:
        _check_plan(self)


@dataclass(frozen=True)
class DataFiles:
    """The data a search trains and evaluates on (absolute paths)."""

    train: str
    dev: str
    test: str | None = None
    labels: str | None = None
    no_relation: str = NO_RELATION


@dataclass(frozen=True)
class Deployment:
    """Where a search runs and stores: the study, its artifacts, devices, workers and logs."""

    storage: str
    study: str
    artifacts: str | None = None  # a directory or s3://BUCKET/PREFIX (storage._artifacts)
    workers: int = 1
    devices: tuple[str, ...] = ()
    precision: str = "auto"
    cache_dir: str | None = None
    worker_logs: str | None = None  # worker processes' log directory, or - for stderr
    heartbeat_interval: int = 30
    live_every: float = 30.0  # seconds between rebuilds of the live figure and note, per study

    def __post_init__(self) -> None:
        _check_deployment(self)


@dataclass(frozen=True)
class SearchConfig:
    """Everything a worker needs, and nothing secret beyond the storage URL itself."""

    plan: SearchPlan
    files: DataFiles
    deployment: Deployment

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchConfig:
        plan = dict(data["plan"])
        plan["objectives"] = tuple(plan.get("objectives", ()))
        plan["hypotheses"] = tuple(plan.get("hypotheses", ()))
        deployment = dict(data["deployment"])
        deployment["devices"] = tuple(deployment.get("devices", ()))
        return cls(SearchPlan(**plan), DataFiles(**data["files"]), Deployment(**deployment))


def default(field: str) -> Any:
    """The config's default for ``field``: the one place a flag's default is stated."""
    for part in (SearchPlan, DataFiles, Deployment):
        for f in dataclasses.fields(part):
            if f.name == field:
                return f.default
    raise KeyError(field)


def check_trials(trials: int) -> None:
    """Also called before the data is read, so that a bad --trials costs no wait."""
    if trials < 1:
        raise UserError(f"--trials: must be at least 1, got {trials}")


def check_heartbeat(seconds: int) -> None:
    """Also called before the storage is opened with it."""
    if seconds < 1:
        raise UserError(f"--heartbeat: must be at least 1 second, got {seconds}")


def _check_plan(c: SearchPlan) -> None:
    check_trials(c.trials)
    if c.sampler not in SAMPLERS:
        raise UserError(f"--sampler: {c.sampler!r} is not one of {', '.join(SAMPLERS)}")
    if c.startup not in STARTUPS:
        raise UserError(f"--startup: {c.startup!r} is not one of {', '.join(STARTUPS)}")
    if c.explore < 0:
        raise UserError(f"--explore: must be 0 (never) or a positive count, got {c.explore}")
    if c.pruner not in PRUNERS:
        raise UserError(f"--pruner: {c.pruner!r} is not one of {', '.join(PRUNERS)}")
    if not c.objectives or len(set(c.objectives)) != len(c.objectives):
        raise UserError("--objectives: give f1, auprc or both, each once")
    if c.pruner in ("median", "hyperband") and len(c.objectives) > 1:
        raise UserError(
            f"--pruner {c.pruner} works with one objective only (e.g. --objectives f1); "
            "use --pruner moasha for several"
        )
    if c.reduction_factor < 2:
        raise UserError(f"--reduction-factor: must be at least 2, got {c.reduction_factor}")
    if c.min_resource < 1:
        raise UserError(f"--min-resource: must be at least 1, got {c.min_resource}")
    if c.min_trials < 1:
        raise UserError(f"--min-trials: must be at least 1, got {c.min_trials}")
    if c.timeout is not None and c.timeout <= 0:
        raise UserError(f"--timeout: must be positive, got {c.timeout}")
    if c.evals_per_epoch < 1:
        raise UserError(f"--evals-per-epoch: must be at least 1, got {c.evals_per_epoch}")
    if c.evals_per_run is not None and c.evals_per_run < 1:
        raise UserError(f"--evals-per-run: must be at least 1, got {c.evals_per_run}")
    if any(not h.strip() for h in c.hypotheses):
        raise UserError("--hypothesis: empty; write what the search should find out")
    if c.runner != REAL_RUNNER and not RUNNER_SPEC.fullmatch(c.runner):
        raise UserError(f"--runner: {c.runner!r} is neither 'real' nor MODULE:FUNCTION")


def _check_deployment(c: Deployment) -> None:
    if c.workers < 1:
        raise UserError(f"--workers: must be at least 1, got {c.workers}")
    if c.precision not in PRECISIONS:
        raise UserError(f"--precision: {c.precision!r} is not one of {', '.join(PRECISIONS)}")
    check_heartbeat(c.heartbeat_interval)
    if c.live_every < 0:
        raise UserError(f"--live-every: must be 0 or more seconds, got {c.live_every}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,120}", c.study):
        raise UserError(
            f"--study: {c.study!r} must start with a letter or digit and use only "
            "letters, digits and . _ : + -"
        )


def parse_objectives(text: str) -> tuple[str, ...]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in OBJECTIVES]
    if unknown or not names:
        raise UserError(f"--objectives: {text!r}: choose f1, auprc or f1,auprc")
    return tuple(OBJECTIVES[n] for n in names)


def parse_devices(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    devices = tuple(part.strip() for part in text.split(",") if part.strip())
    for d in devices:
        if not (d.isdigit() or d == "cpu"):
            raise UserError(f"--devices: {d!r} is not a GPU index (e.g. --devices 0,1) or cpu")
    return devices


def default_study_name(model: str, train: str, fingerprint: str) -> str:
    """``<model>-<train file>-<data hash>``: the same model and data continue the same study."""
    model_part = re.sub(r"[^A-Za-z0-9._-]+", "-", model.rstrip("/").split("/")[-1]) or "model"
    data_part = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(train).stem) or "data"
    return f"{model_part}-{data_part}-{fingerprint[:8]}"


def cpu_threads(workers: int) -> int:
    """Torch threads per worker so that CPU workers share the cores instead of fighting."""
    return max(1, (os.cpu_count() or 1) // workers)

"""Every study and trial attribute the search writes and its other commands read: the names,
and typed readers that know each attribute's shape and its older spellings.

A light module (no torch): ``search.ensemble``, ``search.final`` and ``search.report`` read
these without importing the trial that writes them. Stock tools (optuna-dashboard, ``optuna
trials``) show the user attributes, so those stay few and short; the bulky per-trial records are
trial system attributes, which neither prints. Studies written by 0.1.0, which kept everything
among the user attributes, must keep reading (tests/search/test_compat.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.study import Study
from optuna.trial import FrozenTrial

from storage._liveness import FAIL_REASON, LEASE_ATTR, WORKER_DIED
from storage._optuna import frozen, set_trial_system_attr, storage_of, study_id

__all__ = ["FAIL_REASON", "LEASE_ATTR", "WORKER_DIED"]

# --- trial attributes ---------------------------------------------------------------------------
# Records: written with :func:`set_trial_record` as trial system attributes named RECORD_PREFIX +
# name (``optuna trials`` prints every user attribute and no system attribute), read with
# :func:`trial_record`, which falls back to the user attribute of the same name that studies
# written before kept. Short user attributes (model, worker, origin, the reasons) stay visible.
RECORD_PREFIX = "re_search:"
# what a run ended with: status, steps, total_steps, best_step, metrics, timings_s, memory,
# truncated_entities (entities cut by max_len) and examples (train with augmented copies, dev)
RUN_ATTR = "run"
# every evaluation's objective values, {str(step): [value per objective]}, written only by
# set_trial_evals (search.pruning._evaluations has the convention)
EVALS_ATTR = "evals"
# objective values, in evaluations and as the trial's values: the metrics are x100, so four
# decimals are far below their noise, and keep rows short
STORED_DIGITS = 4
# each evaluation's cost so far, {str(step): [seconds, train examples]}: wall seconds since
# training started (evaluations included) and the train examples stepped over by then
EVAL_COSTS_ATTR = "eval_costs"
# artifact ids of the dev and test predictions (submission CSV with class probabilities)
PREDICTIONS_ATTR = "dev_predictions_artifact"
TEST_PREDICTIONS_ATTR = "test_predictions_artifact"
# the trial's model and the worker that ran it (user attributes), its full hyperparameters
# (searched and fixed; a record)
MODEL = "model"
HPARAMS = "hparams"
WORKER = "worker"
# what else decides its numbers: threads, device, precision, evaluation cadence, library versions
# (objectives.training._runtime); exported with the hyperparameters so a rerun applies them
RUNTIME = "runtime"
# why the search stopped the trial early, one line (a user attribute); why it failed is FAIL_REASON
PRUNED_REASON = "pruned_reason"
# the most a reason keeps: a cell of ``optuna trials``; the worker's log has the whole traceback
REASON_CHARS = 200
# where MO-ASHA stopped it: {rung, evaluation, step, position, of, keep, eta, dominated_by}
PRUNED_AT = "pruned_at"
RECORDS = (
    RUN_ATTR,
    EVALS_ATTR,
    EVAL_COSTS_ATTR,
    PREDICTIONS_ATTR,
    TEST_PREDICTIONS_ATTR,
    HPARAMS,
    RUNTIME,
    PRUNED_AT,
)
# where an enqueued trial came from; the KLUE recipe (trial 0) is the study's baseline
ORIGIN = "origin"
BASELINE_ORIGIN = "KLUE paper recipe"
# FAIL_REASON beginnings that name causes outside the trial (a signal, a dead worker, the
# storage), after which its parameters deserve another run
INTERRUPTED = "interrupted by "
STORAGE_FAILED = "storage: "
EXTERNAL_FAILURES = (INTERRUPTED, WORKER_DIED, STORAGE_FAILED)

# --- study attributes ---------------------------------------------------------------------------
# A study's user attributes hold only its objectives and model, so that ``optuna studies`` prints
# one readable row per study; everything else it records about itself (data and labels, space,
# package versions, hypotheses, changes) is one study system attribute, METADATA. Readers go
# through :func:`study_attrs`, which also finds the same names among the user attributes of
# studies written before (0.1.0 kept them all there).
METADATA = "re_search:metadata"
OBJECTIVES = "objectives"  # metric names, in the study's objective order
DATA = "data"  # data files, their fingerprints and the label set
HYPOTHESES = "hypotheses"  # [{"text", "from_trial"}]
HYPOTHESIS = "hypothesis"  # the latest hypothesis's text alone: what 0.1.0 studies hold
# TPE's start-up configurations (search._design): {"seed", "method", "points": [params, ...]}
STARTUP_DESIGN = "startup_design"
# study system attribute: when a worker last rebuilt the live figure and note (epoch seconds)
LIVE_PUBLISHED_AT = "live:published_at"


def study_attrs(study: Study) -> dict[str, Any]:
    """Everything a study records about itself: its user attributes and its metadata."""
    return stored_study_attrs(storage_of(study), study_id(study))


def stored_study_attrs(storage: BaseStorage, study_id: int) -> dict[str, Any]:
    metadata = storage.get_study_system_attrs(study_id).get(METADATA) or {}
    return {**storage.get_study_user_attrs(study_id), **metadata}


def set_study_metadata(study: Study, **values: Any) -> None:
    """Add or replace entries of the study's metadata (one write)."""
    storage, number = storage_of(study), study_id(study)
    metadata = dict(storage.get_study_system_attrs(number).get(METADATA) or {})
    storage.set_study_system_attr(number, METADATA, {**metadata, **values})


def is_baseline(trial: FrozenTrial) -> bool:
    return trial.user_attrs.get(ORIGIN) == BASELINE_ORIGIN


def trial_model(trial: FrozenTrial, default: str | None = None) -> str | None:
    """The model a trial trained: searched, else recorded by its worker, else ``default``."""
    return trial.params.get(MODEL, trial.user_attrs.get(MODEL, default))


def trial_record(trial: FrozenTrial | optuna.Trial, name: str, default: Any = None) -> Any:
    """A trial's record ``name`` (one of RECORDS): the system attribute, else the user
    attribute of studies written before, else ``default``."""
    as_read = frozen(trial)
    found = as_read.system_attrs.get(RECORD_PREFIX + name)
    if found is None:
        found = as_read.user_attrs.get(name)
    return default if found is None else found


def set_trial_record(trial: optuna.Trial, name: str, value: Any) -> None:
    """Write a running trial's record ``name`` (one storage write)."""
    if name not in RECORDS:
        raise ValueError(f"{name!r} is not a trial record; records are {RECORDS}")
    set_trial_system_attr(trial, RECORD_PREFIX + name, value)


def trial_hparams(trial: FrozenTrial) -> dict[str, Any] | None:
    return trial_record(trial, HPARAMS)


def trial_evals(trial: FrozenTrial | optuna.Trial) -> dict[str, list[float]]:
    """Every evaluation's objective values, as stored: ``{str(step): [value per objective]}``."""
    return trial_record(trial, EVALS_ATTR, {})


def set_trial_evals(trial: optuna.Trial, evals: dict[str, Sequence[float]]) -> None:
    """Write a running trial's evaluations so far (``{str(step): values}``), as :func:`stored`."""
    set_trial_record(trial, EVALS_ATTR, {step: stored(values) for step, values in evals.items()})


def stored(values: Sequence[float]) -> list[float]:
    """Objective values to the precision the study keeps them (STORED_DIGITS decimals)."""
    return [round(float(value), STORED_DIGITS) for value in values]


def trial_run(trial: FrozenTrial) -> dict[str, Any]:
    """What the trial's run ended with (RUN_ATTR), ``{}`` when it recorded nothing."""
    return trial_record(trial, RUN_ATTR, {})


def trial_reason(trial: FrozenTrial) -> str | None:
    """Why a trial did not complete: the search's reason to prune it, or its failure."""
    return trial.user_attrs.get(PRUNED_REASON) or trial.user_attrs.get(FAIL_REASON)


def run_metrics(trial: FrozenTrial) -> dict[str, float]:
    """The best evaluation's metrics its run recorded (objectives or not)."""
    return trial_run(trial).get("metrics") or {}


def study_data(study: Study) -> dict[str, Any]:
    return study_attrs(study).get(DATA) or {}


def study_hypotheses(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """A study's hypotheses (``[{"text", "from_trial"}]``), also from a 0.1.0 study's single one."""
    recorded = list(attrs.get(HYPOTHESES) or [])
    if not recorded and attrs.get(HYPOTHESIS):
        recorded = [{"text": attrs[HYPOTHESIS], "from_trial": 0}]
    return recorded

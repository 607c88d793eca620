"""Every study and trial attribute the search writes and its other commands read: the names,
and typed readers that know each attribute's shape and its older spellings.

A light module (no torch): ``search.ensemble``, ``search.final`` and ``search.report`` read
these without importing the trial that writes them. Stock tools (optuna-dashboard, ``optuna
trials``) show the same attributes under the same names, so the names are part of the
interface: studies written by 0.1.0 must keep reading (tests/search/test_compat.py).
"""

from __future__ import annotations

from typing import Any

from optuna.storages import BaseStorage
from optuna.study import Study
from optuna.trial import FrozenTrial

from storage.liveness import FAIL_REASON, LEASE_ATTR, WORKER_DIED

__all__ = ["FAIL_REASON", "LEASE_ATTR", "WORKER_DIED"]

# --- trial attributes ---------------------------------------------------------------------------
# what a run ended with: status, steps, total_steps, best_step, metrics, timings_s, memory,
# truncated_entities (entities cut by max_len) and examples (train with augmented copies, dev)
RUN_ATTR = "run"
# every evaluation's objective values, {str(step): [value per objective]} (search.pruning.pruner)
EVALS_ATTR = "evals"
# each evaluation's cost so far, {str(step): [seconds, train examples]}: wall seconds since
# training started (evaluations included) and the train examples stepped over by then
EVAL_COSTS_ATTR = "eval_costs"
# artifact ids of the dev and test predictions (submission CSV with class probabilities)
PREDICTIONS_ATTR = "dev_predictions_artifact"
TEST_PREDICTIONS_ATTR = "test_predictions_artifact"
# the trial's model, its full hyperparameters (searched and fixed), the worker that ran it
MODEL = "model"
HPARAMS = "hparams"
WORKER = "worker"
# what else decides its numbers: threads, device, precision, evaluation cadence, library versions
# (objectives.training.runtime); exported with the hyperparameters so a rerun applies them
RUNTIME = "runtime"
# why the search stopped the trial early; why it failed is FAIL_REASON
PRUNED_REASON = "pruned_reason"
# where MO-ASHA stopped it: {rung, evaluation, step, position, of, keep, eta, dominated_by}
PRUNED_AT = "pruned_at"
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
# study system attribute: when a worker last rebuilt the live figure and note (epoch seconds)
LIVE_PUBLISHED_AT = "live:published_at"


def study_attrs(study: Study) -> dict[str, Any]:
    """Everything a study records about itself: its user attributes and its metadata."""
    return stored_study_attrs(study._storage, study._study_id)


def stored_study_attrs(storage: BaseStorage, study_id: int) -> dict[str, Any]:
    metadata = storage.get_study_system_attrs(study_id).get(METADATA) or {}
    return {**storage.get_study_user_attrs(study_id), **metadata}


def set_study_metadata(study: Study, **values: Any) -> None:
    """Add or replace entries of the study's metadata (one write)."""
    storage, study_id = study._storage, study._study_id
    metadata = dict(storage.get_study_system_attrs(study_id).get(METADATA) or {})
    storage.set_study_system_attr(study_id, METADATA, {**metadata, **values})


def is_baseline(trial: FrozenTrial) -> bool:
    return trial.user_attrs.get(ORIGIN) == BASELINE_ORIGIN


def trial_model(trial: FrozenTrial, default: str | None = None) -> str | None:
    """The model a trial trained: searched, else recorded by its worker, else ``default``."""
    return trial.params.get(MODEL, trial.user_attrs.get(MODEL, default))


def trial_hparams(trial: FrozenTrial) -> dict[str, Any] | None:
    return trial.user_attrs.get(HPARAMS)


def trial_reason(trial: FrozenTrial) -> str | None:
    """Why a trial did not complete: the search's reason to prune it, or its failure."""
    return trial.user_attrs.get(PRUNED_REASON) or trial.user_attrs.get(FAIL_REASON)


def run_metrics(trial: FrozenTrial) -> dict[str, float]:
    """The best evaluation's metrics its run recorded (objectives or not)."""
    return (trial.user_attrs.get(RUN_ATTR) or {}).get("metrics") or {}


def study_data(study: Study) -> dict[str, Any]:
    return study_attrs(study).get(DATA) or {}


def study_hypotheses(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """A study's hypotheses (``[{"text", "from_trial"}]``), also from a 0.1.0 study's single one."""
    recorded = list(attrs.get(HYPOTHESES) or [])
    if not recorded and attrs.get(HYPOTHESIS):
        recorded = [{"text": attrs[HYPOTHESIS], "from_trial": 0}]
    return recorded

"""The objective: translate a trial into a run and the run's outcome into the trial's.

It suggests values, builds the run's hyperparameters and settings, hands the run a ``report``
callback that records each evaluation and asks the stopper, and records what the run ended with.
One function, :meth:`Objective.__call__`, decides a trial's state: values (COMPLETE),
``TrialPruned`` (PRUNED), or an exception (FAIL) with the reason in the ``fail_reason`` attribute.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
from optuna.artifacts import upload_artifact

from objectives.data.dataset import Dataset
from objectives.data.inputs import TrialData
from objectives.data.predictions import write_predictions
from objectives.hparams import HParams, RunSettings, hparams_from_mapping
from objectives.metrics import softmax
from objectives.training.loop import Report, RunResult, Workspace
from objectives.training.runtime import runtime_record
from search import trial_log
from search.attrs import (
    EVAL_COSTS_ATTR,
    FAIL_REASON,
    HPARAMS,
    MODEL,
    PREDICTIONS_ATTR,
    PRUNED_REASON,
    REASON_CHARS,
    RUN_ATTR,
    RUNTIME,
    STORAGE_FAILED,
    TEST_PREDICTIONS_ATTR,
    WORKER,
    set_trial_evals,
    set_trial_record,
    stored,
)
from search.config import SearchConfig
from search.interrupts import WorkerInterrupted
from search.pruning.pruner import Pruner
from search.sampling import suggest
from search.space import Space
from storage.artifacts import ArtifactStore, ArtifactStoreUnavailable, is_no_space
from storage.liveness import enqueue_retry, keep_alive
from storage.retry import StorageFull

Runner = Callable[[HParams, RunSettings, TrialData, Report, Workspace], RunResult]

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class TrialDiverged(RuntimeError):
    """The run's loss became NaN or infinite, or the model collapsed: the trial fails."""


def constant_predictions(logits: np.ndarray | None) -> bool:
    """Every dev example got the same class probabilities (to float precision)."""
    if logits is None or len(logits) < 2:
        return False
    return bool(np.ptp(softmax(logits), axis=0).max() < 1e-7)


class ReasonNotStored(BaseException):
    """The disk is full and the trial's ``fail_reason`` could not be written. Not an Exception, so
    that Optuna, which catches Exception and KeyboardInterrupt, does not mark the trial FAIL
    without its reason (a finished trial takes no attributes): the worker fails it, reason first,
    or leaves it to its launcher (``search.worker``)."""


class Objective:
    """Called by ``study.optimize`` once per trial, in one worker process."""

    def __init__(
        self,
        config: SearchConfig,
        space: Space,
        data: TrialData,
        runner: Runner,
        stopper: Pruner,
        workspace: Workspace,
        artifacts: ArtifactStore | None,
    ) -> None:
        self.config = config
        self.space = space
        self.data = data
        self.runner = runner
        self.stopper = stopper
        self.workspace = workspace
        self.artifacts = artifacts
        self.last_crash: str | None = None  # why the last trial crashed (not diverged/pruned)
        self.store_down: ArtifactStoreUnavailable | None = None  # the last trial's upload failed
        # set when a trial ended because the disk is full: the worker must stop
        self.no_space: str | None = None
        self.trial_id: int | None = None  # the trial being run

    def __call__(self, trial: optuna.Trial) -> tuple[float, ...]:
        self.last_crash = None
        self.store_down = None
        self.trial_id = trial._trial_id
        trial_log.started(trial, WORKER_ID)
        try:
            return self._run(trial)
        except (optuna.TrialPruned, TrialDiverged):
            raise
        except Exception as exc:
            if is_no_space(exc) or isinstance(exc, StorageFull):
                said = str(exc) if isinstance(exc, StorageFull) else None
                said = said or f"the disk is full or read-only: {exc}"
                self.no_space = f"{STORAGE_FAILED}{said}"[:500]
                try:
                    trial.set_user_attr(FAIL_REASON, self.no_space[:REASON_CHARS])
                except Exception:  # the storage itself is what is full
                    raise ReasonNotStored(self.no_space) from exc
                raise
            self.last_crash = f"{type(exc).__name__}: {exc}"[:500]
            raise

    def _run(self, trial: optuna.Trial) -> tuple[float, ...]:
        study = trial.study
        params = suggest(trial, self.space, self.config.model)
        model = str(params.pop("model", self.config.model))
        hp = hparams_from_mapping(params, f"trial {trial.number}")
        settings = self._settings(model)
        trial.set_user_attr(MODEL, model)
        trial.set_user_attr(WORKER, WORKER_ID)
        set_trial_record(trial, HPARAMS, hp.to_dict())
        set_trial_record(trial, RUNTIME, runtime_record(settings))

        def report(step: int, metrics: dict[str, float]) -> bool:
            values = [metrics[name] for name in self.config.objectives]
            return self.stopper.keep_going(study, trial, step, values)

        try:
            with self._lease(trial):
                result = self.runner(hp, settings, self.data, report, self.workspace)
        except BaseException as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, WorkerInterrupted):
                reason = str(exc)  # "interrupted by SIGINT"
            with contextlib.suppress(Exception):  # the exception says more than a failed write
                trial.set_user_attr(FAIL_REASON, reason[:REASON_CHARS])
            raise
        try:
            self._record(trial, result)
        except ArtifactStoreUnavailable as exc:
            # not the trial's fault: it runs again once the store answers (search.worker waits)
            trial.set_user_attr(FAIL_REASON, str(exc)[:REASON_CHARS])
            frozen = study._storage.get_trial(trial._trial_id)
            enqueue_retry(study, frozen, max_retry=2)
            self.store_down = exc
            raise
        if result.status == "stopped":
            # the stopper's own account (rung, position, who dominated it) wins over the run's
            reason = trial.user_attrs.get(PRUNED_REASON) or result.reason
            trial.set_user_attr(PRUNED_REASON, reason)
            raise optuna.TrialPruned(reason)
        if result.status == "diverged":
            trial.set_user_attr(FAIL_REASON, result.reason)
            raise TrialDiverged(result.reason)
        if constant_predictions(result.dev_logits):
            # KLUE's trapezoid AUPRC gives tied scores (1 + prevalence) / 2 per class, about 52:
            # a collapsed model would otherwise sit on the Pareto front
            reason = "the model predicts the same probabilities for every dev example"
            trial.set_user_attr(FAIL_REASON, reason)
            raise TrialDiverged(reason)
        # to the precision the evaluations and the run record keep (and ``optuna trials`` shows)
        return tuple(stored([result.metrics[name] for name in self.config.objectives]))

    def _lease(self, trial: optuna.Trial) -> contextlib.AbstractContextManager:
        """Optuna beats for relational storages; journal storages get the project's lease."""
        return keep_alive(trial.study._storage, trial._trial_id, self.config.heartbeat_interval)

    def _settings(self, model: str) -> RunSettings:
        c = self.config
        return RunSettings(
            model=model,
            precision=c.precision,
            eval_steps=c.eval_steps,
            evals_per_epoch=c.evals_per_epoch,
            evals_per_run=c.evals_per_run,
            cache_dir=Path(c.cache_dir) if c.cache_dir else None,
        )

    def _record(self, trial: optuna.Trial, result: RunResult) -> None:
        """What the run ended with, as one record (one storage write, not eight)."""
        record = {
            "status": result.status,
            "steps": result.steps,
            "total_steps": result.total_steps,
            "best_step": result.best_step,
            "metrics": {k: round(v, 4) for k, v in result.metrics.items()},
            "timings_s": result.timings,
            "memory": result.memory,
        }
        if result.truncated_entities:
            record["truncated_entities"] = result.truncated_entities
        if result.examples:  # with augmentation, train holds the added copies
            record["examples"] = result.examples
        set_trial_record(trial, RUN_ATTR, record)
        if result.evaluations:  # every objective of every evaluation (search.pruning.evaluations)
            evals = {
                str(e["step"]): stored([e[name] for name in self.config.objectives])
                for e in result.evaluations
            }
            set_trial_evals(trial, evals)
            costs = {
                str(e["step"]): [round(float(e["seconds"]), 3), int(e["examples"])]
                for e in result.evaluations
            }
            set_trial_record(trial, EVAL_COSTS_ATTR, costs)
        if self.artifacts is not None and result.dev_logits is not None:
            dev = self._upload(trial, "dev", self.data.dev, result.dev_logits)
            set_trial_record(trial, PREDICTIONS_ATTR, dev)
        # the test set's probabilities at the same best state, for ensembles without retraining
        if self.artifacts is not None and result.test_logits is not None:
            test = self._upload(trial, "test", self.data.test, result.test_logits)
            set_trial_record(trial, TEST_PREDICTIONS_ATTR, test)

    def _upload(self, trial: optuna.Trial, split: str, data: Dataset, logits: np.ndarray) -> str:
        """Predictions with class probabilities, as a submission-format CSV artifact."""
        ids = [ex.id for ex in data.examples]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"trial-{trial.number}-{split}_predictions.csv"
            write_predictions(path, ids, softmax(logits), self.data.labels)
            return upload_artifact(
                artifact_store=self.artifacts,
                file_path=str(path),
                study_or_trial=trial,
                mimetype="text/csv",
            )

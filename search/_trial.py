"""The objective: translate a trial into a run and the run's outcome into the trial's.

It suggests values, builds the run's hyperparameters and settings, hands the run a ``report``
callback that records each evaluation and asks the pruner, and records what the run ended with.
:meth:`Objective.__call__` returns how the trial ended (:mod:`search._outcome`); the worker
records that in the study.
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

from common._files import safe_name
from objectives._hparams import HParams, RunSettings, hparams_from_mapping
from objectives._metrics import softmax
from objectives.data._dataset import Dataset
from objectives.data._inputs import TrialData
from objectives.data._predictions import write_predictions
from objectives.training._loop import Report, RunResult, Workspace
from objectives.training._runtime import runtime_record
from search import _trial_log as trial_log
from search._attrs import (
    EVAL_COSTS_ATTR,
    HPARAMS,
    MODEL,
    PREDICTIONS_ATTR,
    PRUNED_REASON,
    RUN_ATTR,
    RUNTIME,
    TEST_PREDICTIONS_ATTR,
    WORKER,
    set_trial_evals,
    set_trial_record,
    stored,
)
from search._config import REAL_RUNNER, SearchConfig
from search._interrupts import Interrupts, WorkerInterrupted
from search._live import LiveView
from search._outcome import Cause, Complete, Failed, Outcome, Pruned, failure
from search._sampling import suggest
from search._space import Choice, Fixed, Space
from search._worker_inputs import Inputs
from search.pruning._pruner import Pruner, make_pruner
from storage._artifacts import ArtifactStore, open_artifact_store
from storage._liveness import keep_alive
from storage._optuna import storage_of, trial_id

Runner = Callable[[HParams, RunSettings, TrialData, Report, Workspace], RunResult]

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def constant_predictions(logits: np.ndarray | None) -> bool:
    """Every dev example got the same class probabilities (to float precision)."""
    if logits is None or len(logits) < 2:
        return False
    return bool(np.ptp(softmax(logits), axis=0).max() < 1e-7)


class Objective:
    """Runs one trial in one worker process and returns its :data:`~search._outcome.Outcome`."""

    def __init__(
        self,
        config: SearchConfig,
        space: Space,
        data: TrialData,
        runner: Runner,
        pruner: Pruner,
        workspace: Workspace,
        artifacts: ArtifactStore | None,
    ) -> None:
        self.config = config
        self.space = space
        self.data = data
        self.runner = runner
        self.pruner = pruner
        self.workspace = workspace
        self.artifacts = artifacts

    def __call__(self, trial: optuna.Trial) -> Outcome:
        """Never raises for what a trial may meet (a crash, a signal, a full disk, a storage
        that went away): each is a :class:`~search._outcome.Failed` outcome for the worker."""
        trial_log.started(trial, WORKER_ID)
        try:
            with self._lease(trial):
                return self._run(trial)
        except (Exception, WorkerInterrupted) as exc:
            return failure(exc)

    def _run(self, trial: optuna.Trial) -> Outcome:
        study = trial.study
        params = suggest(trial, self.space, self.config.plan.model)
        model = str(params.pop("model", self.config.plan.model))
        hp = hparams_from_mapping(params, f"trial {trial.number}")
        settings = self._settings(model)
        trial.set_user_attr(MODEL, model)
        trial.set_user_attr(WORKER, WORKER_ID)
        set_trial_record(trial, HPARAMS, hp.to_dict())
        set_trial_record(trial, RUNTIME, runtime_record(settings))

        def report(step: int, metrics: dict[str, float]) -> bool:
            values = [metrics[name] for name in self.config.plan.objectives]
            return self.pruner.keep_going(study, trial, step, values)

        result = self.runner(hp, settings, self.data, report, self.workspace)
        self._record(trial, result)
        if result.status == "stopped":
            # the pruner's own account (rung, position, who dominated it) wins over the run's
            return Pruned(trial.user_attrs.get(PRUNED_REASON) or result.reason)
        if result.status == "diverged":
            return Failed(Cause.DIVERGED, result.reason)
        if constant_predictions(result.dev_logits):
            # KLUE's trapezoid AUPRC gives tied scores (1 + prevalence) / 2 per class, about 52:
            # a collapsed model would otherwise sit on the Pareto front
            reason = "the model predicts the same probabilities for every dev example"
            return Failed(Cause.DIVERGED, reason)
        # to the precision the evaluations and the run record keep (and ``optuna trials`` shows)
        return Complete(
            tuple(stored([result.metrics[name] for name in self.config.plan.objectives]))
        )

    def _lease(self, trial: optuna.Trial) -> contextlib.AbstractContextManager:
        """Optuna's heartbeat for relational storages; journal storages get the project's lease."""
        return keep_alive(
            storage_of(trial.study), trial_id(trial), self.config.deployment.heartbeat_interval
        )

    def _settings(self, model: str) -> RunSettings:
        plan, where = self.config.plan, self.config.deployment
        return RunSettings(
            model=model,
            precision=where.precision,
            eval_steps=plan.eval_steps,
            evals_per_epoch=plan.evals_per_epoch,
            evals_per_run=plan.evals_per_run,
            cache_dir=Path(where.cache_dir) if where.cache_dir else None,
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
        if result.evaluations:  # every objective of every evaluation (search.pruning._evaluations)
            evals = {
                str(e["step"]): stored([e[name] for name in self.config.plan.objectives])
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
            name = f"{safe_name(trial.study.study_name)}-trial-{trial.number}-{split}_predictions"
            path = Path(tmp) / f"{name}.csv"  # the object's name in a bucket starts with it
            write_predictions(path, ids, softmax(logits), self.data.labels)
            return upload_artifact(
                artifact_store=self.artifacts,
                file_path=str(path),
                study_or_trial=trial,
                mimetype="text/csv",
            )


def build_objective(
    config: SearchConfig, inputs: Inputs, runner: Runner, interrupts: Interrupts, view: LiveView
) -> Objective:
    """A worker's objective, built once: the models prepared, the artifact store opened, the
    runner armed for signals, the pruner showing each evaluation to the live view."""
    space, data = inputs.space, inputs.data
    cache_dir, artifacts = config.deployment.cache_dir, config.deployment.artifacts
    workspace = Workspace(Path(cache_dir) if cache_dir else None)
    if config.plan.runner == REAL_RUNNER:
        # before the first trial: building the tiny model or a +tapt model, or checking a hub id,
        # importing its modeling code and loading its tokenizers are the worker's set-up, once,
        # not part of whichever trial happens to come first
        for model in space.models() or [config.plan.model]:
            workspace.prepare(model, data, _values(space, "markers", model))
    store = open_artifact_store(artifacts, create=True) if artifacts else None

    def guarded(*args):
        interrupts.arm()
        try:
            return runner(*args)
        finally:
            interrupts.armed = False

    plan = config.plan
    pruner = make_pruner(
        plan.pruner, plan.reduction_factor, plan.min_resource, view.at_evaluation, plan.min_trials
    )
    return Objective(config, space, data, guarded, pruner, workspace, store)


def _values(space: Space, name: str, model: str) -> list:
    """The values parameter ``name`` can take in trials of ``model``: its choices, its fixed
    value, HParams' default where the space leaves it out, none for a range."""
    if name not in space.params:
        return [getattr(HParams(), name)]
    param = space.param_for(name, model)
    if isinstance(param, Choice):
        return list(param.choices)
    if isinstance(param, Fixed):
        return [param.value]
    return []

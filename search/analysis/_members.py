"""The members of an ensemble: a study's top complete trials and their stored probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import download_artifact
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import FrozenTrial, TrialState

from common._cli import UserError
from objectives.data._labels import LabelSet
from objectives.data._predictions import Predictions, read_predictions
from search import _attrs as attrs
from search._attrs import PREDICTIONS_ATTR, TEST_PREDICTIONS_ATTR
from search.analysis._studies import objective_names
from search.analysis._voting import order_by, pareto_order
from storage._artifacts import ArtifactStore

NO_PROBS = "no stored probabilities (it ran without an artifact store)"


@dataclass(frozen=True)
class Member:
    """One trial of the ensemble with its stored probabilities."""

    trial: FrozenTrial
    dev: Predictions
    test: Predictions | None


def pick_trials(
    study: optuna.Study, top: int, by: str
) -> tuple[list[FrozenTrial], list[dict[str, Any]]]:
    """The ``top`` best complete trials that stored dev probabilities, best first, and the better
    ranked trials skipped for having none (with the reason)."""
    names = objective_names(study)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise UserError(f"--study {study.study_name}: no complete trial yet")
    stored = sum(attrs.trial_record(t, PREDICTIONS_ATTR) is not None for t in complete)
    if stored == 0:
        raise UserError(
            f"--study {study.study_name}: no trial has stored probabilities "
            f"({len(complete)} complete trials; search.run stores them in its artifact store)"
        )
    if top > stored:
        raise UserError(
            f"--top {top}: only {stored} complete trials of study {study.study_name} "
            "have stored probabilities"
        )
    order = rank(complete, names, by)
    chosen: list[FrozenTrial] = []
    skipped: list[dict[str, Any]] = []
    for i in order:
        if len(chosen) == top:
            break
        if attrs.trial_record(complete[i], PREDICTIONS_ATTR) is not None:
            chosen.append(complete[i])
        else:
            skipped.append({"trial": complete[i].number, "reason": NO_PROBS})
    return chosen, skipped


def rank(trials: list[FrozenTrial], names: list[str], by: str) -> list[int]:
    """Indices of ``trials`` best first (see :func:`search.analysis.pareto_order`)."""
    if by == "pareto":  # F1 only breaks ties within a front here
        f1 = [trial_metric(t, names, "micro_f1", missing=float("-inf")) for t in trials]
        return pareto_order([list(t.values) for t in trials], f1)
    if by == "f1":
        return order_by([trial_metric(t, names, "micro_f1") for t in trials])
    return order_by([trial_metric(t, names, "auprc") for t in trials])


def trial_metric(
    trial: FrozenTrial, names: list[str], metric: str, missing: float | None = None
) -> float:
    """A metric of a complete trial: its objective value, else its run's recorded best metrics."""
    if metric in names:
        return float(trial.values[names.index(metric)])
    recorded = attrs.run_metrics(trial)
    if metric not in recorded and missing is not None:
        return missing
    if metric not in recorded:
        raise UserError(f"trial {trial.number} records no {metric}; rank by another metric")
    return float(recorded[metric])


def study_labels(study: optuna.Study, data: dict[str, Any]) -> LabelSet:
    recorded = data.get("labels")
    if not recorded:
        raise UserError(
            f"--study {study.study_name}: records no label set (not a search.run study)"
        )
    return LabelSet(tuple(recorded["names"]), recorded["no_relation"])


def load_member(
    store: ArtifactStore, trial: FrozenTrial, labels: LabelSet, tmp: Path, test: bool
) -> Member:
    dev = _download(store, trial, PREDICTIONS_ATTR, labels, tmp)
    if not test:
        return Member(trial, dev, None)
    if attrs.trial_record(trial, TEST_PREDICTIONS_ATTR) is None:
        raise UserError(
            f"trial {trial.number}: no stored test probabilities (it ran without --test); "
            "choose a smaller --top or rerun the search with --test"
        )
    return Member(trial, dev, _download(store, trial, TEST_PREDICTIONS_ATTR, labels, tmp))


def _download(
    store: ArtifactStore, trial: FrozenTrial, attr: str, labels: LabelSet, tmp: Path
) -> Predictions:
    artifact_id = attrs.trial_record(trial, attr)
    path = tmp / f"trial-{trial.number}-{attr}.csv"
    try:
        download_artifact(artifact_store=store, artifact_id=artifact_id, file_path=str(path))
    except ArtifactNotFound:
        raise UserError(
            f"trial {trial.number}: {attr} {artifact_id} is not in the artifact store "
            "(give --artifacts DIR or s3://BUCKET/PREFIX)"
        ) from None
    return read_predictions(path, labels)

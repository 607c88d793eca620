"""A study's chosen trial, ready to retrain on K folds: which trial (``--trial``, ``--best``), its
hyperparameters, the data files and label set it was searched on, and the files a K-fold run
writes.
"""

from __future__ import annotations

import csv
import io
import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from common._cli import UserError
from common._files import write_text_atomic
from objectives._hparams import HParams, hparams_from_mapping
from objectives.data._dataset import Dataset, read_dataset
from objectives.data._labels import LabelSet, check_no_relation, infer_labels
from objectives.data._predictions import write_predictions
from objectives.training._kfold import (
    KFoldResult,
)
from search import _attrs as attrs
from search._config import OBJECTIVES
from search._datafiles import locate, missing
from search.analysis._kfold_report import (
    FOLDS,
    OOF,
    REPORT,
    SUBMISSION,
    fold_file,
)
from search.analysis._studies import objective_names


def read_inputs(
    args: Namespace, study: optuna.Study
) -> tuple[Dataset, Dataset | None, Dataset, LabelSet]:
    """Train (the study's file unless --train), dev (likewise, where it still exists), test,
    and the study's label set; the readers name the file and row of anything wrong. A flag
    naming a directory finds the study's file there by its recorded fingerprint."""
    recorded = attrs.study_data(study)
    known = _saved_labels(study)
    train_path = locate(args.train, recorded, "train", "--train", known)
    if train_path is None:
        raise missing(recorded, "train", "--train")
    labels = known or study_labels(study, train_path)
    train = read_dataset(train_path, labels)
    dev_path = locate(args.dev, recorded, "dev", "--dev", labels)  # dev scores are optional
    dev = read_dataset(dev_path, labels) if dev_path is not None else None
    observed = [ex.label for ds in (train, dev) if ds is not None for ex in ds.examples]
    check_no_relation(observed, labels.no_relation, f"{train_path}")
    test_path = locate(args.test, recorded, "test", "--test", labels)
    test = read_dataset(test_path, labels, with_labels=False)
    return train, dev, test, labels


def choose_trial(study: optuna.Study, number: int | None, best: str | None) -> FrozenTrial:
    """``--trial N`` (it must be COMPLETE and carry its hyperparameters) or ``--best OBJ``."""
    trials = study.get_trials(deepcopy=False)
    if best is not None:
        return best_trial(study, trials, OBJECTIVES[best], best)
    by_number = {t.number: t for t in trials}
    if number not in by_number:
        there = f"0..{max(by_number)}" if by_number else "none"
        raise UserError(f"--trial {number}: no such trial in study {study.study_name} ({there})")
    trial = by_number[number]
    if trial.state != TrialState.COMPLETE:
        why = attrs.trial_reason(trial)
        state = trial.state.name + (f" ({why})" if why else "")
        raise UserError(
            f"--trial {number}: is {state}, not COMPLETE: its configuration never finished "
            "training; choose a COMPLETE trial, or --best f1 / --best auprc"
        )
    if attrs.trial_hparams(trial) is None:
        raise UserError(
            f"--trial {number}: records no hyperparameters ('hparams'); "
            "choose another trial, or --best f1 / --best auprc"
        )
    return trial


def best_trial(
    study: optuna.Study, trials: list[FrozenTrial], metric: str, flag: str
) -> FrozenTrial:
    names = objective_names(study)
    if metric not in names:
        raise UserError(
            f"--best {flag}: study {study.study_name} optimizes {', '.join(names)}, not {metric}"
        )
    index = names.index(metric)
    complete = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and t.values and attrs.trial_hparams(t) is not None
    ]
    if not complete:
        raise UserError(f"--best {flag}: study {study.study_name} has no complete trial yet")
    signs = [1 if d == optuna.study.StudyDirection.MAXIMIZE else -1 for d in study.directions]
    order = [index, *(j for j in range(len(names)) if j != index)]
    # a tie on the metric is broken by the other objectives: never a dominated trial
    return max(complete, key=lambda t: (*(signs[j] * t.values[j] for j in order), -t.number))


def trial_hparams(trial: FrozenTrial) -> HParams:
    hparams = attrs.trial_hparams(trial)
    if not isinstance(hparams, dict):
        raise UserError(f"trial {trial.number}: its 'hparams' record is not a mapping")
    return hparams_from_mapping(hparams, f"trial {trial.number} hparams")


def _saved_labels(study: optuna.Study) -> LabelSet | None:
    recorded = attrs.study_data(study).get("labels")
    return LabelSet(tuple(recorded["names"]), recorded["no_relation"]) if recorded else None


def study_labels(study: optuna.Study, train_path: Path) -> LabelSet:
    """The label set the study searched with (its order is the order of ``probs``)."""
    recorded = _saved_labels(study)
    if recorded:
        return recorded
    names = [ex.label for ex in read_dataset(train_path, None).examples]
    return infer_labels(names)


def write_outputs(
    out: Path,
    report: dict[str, Any],
    result: KFoldResult,
    train: Dataset,
    test: Dataset,
    labels: LabelSet,
) -> None:
    """Every file atomically (temporary name, then rename), the report last."""
    out.mkdir(parents=True, exist_ok=True)
    test_ids = [ex.id for ex in test.examples]
    train_ids = [ex.id for ex in train.examples]
    write_predictions(out / SUBMISSION, test_ids, result.vote, labels)
    for f in result.folds:
        write_predictions(
            out / fold_file(f.fold, len(result.folds)), test_ids, f.test_probs, labels
        )
    write_predictions(out / OOF, train_ids, result.oof_probs, labels)
    _write_folds(out / FOLDS, train, result.fold_of)
    write_text_atomic(out / REPORT, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def _write_folds(path: Path, train: Dataset, fold_of: np.ndarray) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("id", "label", "fold"))
    for ex, fold in zip(train.examples, fold_of, strict=True):
        writer.writerow((ex.id, ex.label, int(fold) + 1))
    write_text_atomic(path, buffer.getvalue())

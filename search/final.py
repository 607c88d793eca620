"""``python -m search.final``: retrain a study's chosen configuration on K folds, soft-vote.

Reads the study (the trial's hyperparameters and model, the data files and label set it was
searched on), checks every input before training, runs
:func:`objectives.training.run_kfold`, and
only when every fold has succeeded writes into ``--out``: the submission (``submission.csv``,
the K models' mean probabilities), each fold's test probabilities, the out-of-fold predictions
(scorable with ``python -m objectives.score --gold TRAIN --pred oof_predictions.csv``), the fold
of each training example, and ``report.json`` (built, with the summary printed, by
:mod:`search.analysis._kfold_report`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from argparse import Namespace
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from common._files import write_text_atomic
from common._paths import cache_root
from objectives._hparams import PRECISIONS, HParams, RunSettings, hparams_from_mapping
from objectives.data._dataset import Dataset, read_dataset
from objectives.data._labels import LabelSet, check_no_relation, infer_labels
from objectives.data._predictions import write_predictions
from objectives.training._kfold import (
    FoldFailed,
    FoldResult,
    KFoldResult,
    check_folds,
    run_kfold,
)
from search import _attrs as attrs
from search._config import OBJECTIVES
from search._datafiles import locate, missing
from search.analysis._kfold_report import (
    FOLDS,
    OOF,
    REPORT,
    SUBMISSION,
    build_report,
    fold_file,
    render_summary,
)
from search.analysis._studies import add_study_flags, objective_names, open_study
from storage._urls import mask_url


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.final",
        description="Retrain a study's trial on K stratified folds and soft-vote a submission.",
    )
    add_study_flags(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--trial", type=int, help="the trial's number")
    which.add_argument("--best", choices=tuple(OBJECTIVES), help="the best complete trial by it")
    p.add_argument("--folds", type=int, default=5, help="K (default 5)")
    p.add_argument(
        "--train",
        type=Path,
        help="labeled training data (default: the study's; a directory: the study's file in it, "
        "found by fingerprint)",
    )
    p.add_argument(
        "--dev", type=Path, help="scored by every fold model (default: the study's; or a directory)"
    )
    p.add_argument("--test", type=Path, required=True, help="the data to submit predictions for")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--seed", type=int, help="fold split and training seed (default: the trial's)")
    p.add_argument("--model", help="override the trial's model ('tiny', a directory, a hub id)")
    p.add_argument("--precision", default="auto", help=f"one of {', '.join(PRECISIONS)}")
    p.add_argument("--evals-per-epoch", type=int, default=4, help="best-step candidates")
    p.add_argument("--cache-dir", type=Path, help="tokenized data and the tiny model")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.folds < 2:
        raise UserError(f"--folds: must be at least 2, got {args.folds}")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed: must be >= 0, got {args.seed}")
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, study = open_study(args.storage, args.study)
    trial = choose_trial(study, args.trial, args.best)
    hp = trial_hparams(trial)
    if args.seed is not None:
        hp = dataclasses.replace(hp, seed=args.seed)
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out}: exists and is not a directory")
    train, dev, test, labels = read_inputs(args, study)
    check_folds(train, args.folds)
    model = args.model or trial.user_attrs.get(attrs.MODEL) or study.user_attrs.get(attrs.MODEL)
    settings = RunSettings(
        model=model or "tiny",
        precision=args.precision,
        evals_per_epoch=args.evals_per_epoch,
        cache_dir=args.cache_dir or cache_root(),
        progress=not args.quiet,
    )
    print(
        f"trial {trial.number} of {study.study_name} ({settings.model}) on {args.folds} folds "
        f"of {train.path} ({len(train)} examples)",
        file=sys.stderr,
    )
    try:
        result = run_kfold(
            hp, settings, train, labels, args.folds, test, dev, on_fold=_print_fold(args.folds)
        )
    except FoldFailed as exc:
        print(f"error: {exc}; nothing written to {args.out}", file=sys.stderr)
        return 1
    report = build_report(study, trial, hp, settings, train, dev, test, labels, result)
    report["storage"] = mask_url(url)
    report["chosen_by"] = f"--trial {args.trial}" if args.best is None else f"--best {args.best}"
    write_outputs(args.out, report, result, train, test, labels)
    print(render_summary(report))
    print(f"written to {args.out}/ ({', '.join(report['files'])})", file=sys.stderr)
    return 0


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


def _print_fold(k: int):
    def on_fold(fold: FoldResult) -> None:
        dev = f", dev F1 {fold.dev['micro_f1']:.2f}" if fold.dev else ""
        print(
            f"fold {fold.fold + 1}/{k}: held-out F1 {fold.oof['micro_f1']:.2f} "
            f"AUPRC {fold.oof['auprc']:.2f} (best step {fold.best_step}/{fold.steps}){dev}",
            file=sys.stderr,
        )

    return on_fold


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


if __name__ == "__main__":
    run_main(main)

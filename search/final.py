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

import dataclasses
import sys
from pathlib import Path

import optuna

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from common._paths import cache_root
from objectives._hparams import PRECISIONS, RunSettings
from objectives.training._kfold import (
    FoldFailed,
    FoldResult,
    check_folds,
    run_kfold,
)
from search import _attrs as attrs
from search._config import OBJECTIVES
from search._retrain import choose_trial, read_inputs, trial_hparams, write_outputs
from search.analysis._kfold_report import (
    build_report,
    render_summary,
)
from search.analysis._studies import add_study_flags, open_study
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


def _print_fold(k: int):
    def on_fold(fold: FoldResult) -> None:
        dev = f", dev F1 {fold.dev['micro_f1']:.2f}" if fold.dev else ""
        print(
            f"fold {fold.fold + 1}/{k}: held-out F1 {fold.oof['micro_f1']:.2f} "
            f"AUPRC {fold.oof['auprc']:.2f} (best step {fold.best_step}/{fold.steps}){dev}",
            file=sys.stderr,
        )

    return on_fold


if __name__ == "__main__":
    run_main(main)

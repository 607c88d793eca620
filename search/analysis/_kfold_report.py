"""What ``python -m search.final`` found, as JSON-ready data (its ``report.json``) and as the
summary it prints: the chosen trial, the data, each fold's held-out and dev scores, the
out-of-fold scores against chance, the soft vote on dev, and the files written beside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial

from objectives._hparams import HParams, RunSettings
from objectives.data._dataset import Dataset
from objectives.data._labels import LabelSet
from objectives.training._kfold import FoldResult, KFoldResult, floors, label_ids
from search.analysis._studies import objective_names

# The files search.final writes into --out, besides each fold's test probabilities.
SUBMISSION = "submission.csv"
OOF = "oof_predictions.csv"
FOLDS = "folds.csv"
REPORT = "report.json"


def build_report(
    study: optuna.Study,
    trial: FrozenTrial,
    hp: HParams,
    settings: RunSettings,
    train: Dataset,
    dev: Dataset | None,
    test: Dataset,
    labels: LabelSet,
    result: KFoldResult,
) -> dict[str, Any]:
    """What the K folds found, as JSON-ready data."""
    names = objective_names(study)
    k = len(result.folds)
    report: dict[str, Any] = {
        "study": study.study_name,
        "trial": trial.number,
        "trial_values": dict(zip(names, trial.values or [], strict=False)),
        "model": settings.model,
        "hparams": hp.to_dict(),
        "folds": k,
        "seed": hp.seed,
        "data": _data(train, dev, test, labels),
        "out_of_fold": result.oof,
        "floor": floors(label_ids(train, labels), labels),
        "per_fold": [_fold_row(f, k) for f in result.folds],
        "note": "each fold's best step is chosen on its held-out fold, so out-of-fold scores "
        "lean slightly optimistic; the dev scores (when present) are not chosen on",
    }
    if dev is not None:
        report["dev"] = {
            "fold_mean": _mean([f.dev for f in result.folds if f.dev]),
            "soft_vote": result.vote_dev,
        }
    report["files"] = [SUBMISSION, OOF, FOLDS, REPORT, *(fold_file(i, k) for i in range(k))]
    return report


def _fold_row(f: FoldResult, k: int) -> dict[str, Any]:
    return {
        "fold": f.fold + 1,
        "train_rows": f.train_rows,
        "held_out_rows": f.held_out_rows,
        "best_step": f.best_step,
        "steps": f.steps,
        "held_out": f.oof,
        "dev": f.dev,
        "seconds": f.seconds,
        "test_probabilities": fold_file(f.fold, k),
    }


def _data(train: Dataset, dev: Dataset | None, test: Dataset, labels: LabelSet) -> dict[str, Any]:
    return {
        "train": train.path,
        "train_rows": len(train),
        "dev": dev.path if dev is not None else None,
        "dev_rows": len(dev) if dev is not None else 0,
        "test": test.path,
        "test_rows": len(test),
        "labels": labels.to_json(),
    }


def fold_file(fold: int, k: int) -> str:
    """The name of fold ``fold``'s (0-based) test probabilities file, of ``k`` folds."""
    return f"test_probs_fold{fold + 1}of{k}.csv"


def _mean(scores: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(float(np.mean([s[name] for s in scores])), 4) for name in scores[0]}


def render_summary(report: dict[str, Any]) -> str:
    """The report in a few lines, as ``search.final`` prints it."""
    lines = [
        f"trial {report['trial']} of {report['study']}, {report['folds']} folds, "
        f"model {report['model']}",
        "fold  held-out F1  AUPRC" + ("   dev F1  dev AUPRC" if "dev" in report else ""),
    ]
    for f in report["per_fold"]:
        row = f"{f['fold']:>4}  {f['held_out']['micro_f1']:>11.2f}  {f['held_out']['auprc']:>5.2f}"
        if f["dev"]:
            row += f"   {f['dev']['micro_f1']:>6.2f}  {f['dev']['auprc']:>9.2f}"
        lines.append(row)
    oof, floor = report["out_of_fold"], report["floor"]
    lines.append(
        f"out-of-fold ({report['data']['train_rows']} examples): micro-F1 {oof['micro_f1']:.2f}, "
        f"AUPRC {oof['auprc']:.2f} (chance: majority-class micro-F1 {floor['micro_f1']:.2f}, "
        f"random-ranking AUPRC {floor['auprc']:.2f})"
    )
    if "dev" in report:
        vote, mean = report["dev"]["soft_vote"], report["dev"]["fold_mean"]
        lines.append(
            f"dev: soft vote micro-F1 {vote['micro_f1']:.2f}, AUPRC {vote['auprc']:.2f} "
            f"(fold models' mean {mean['micro_f1']:.2f}, {mean['auprc']:.2f})"
        )
    lines.append(f"submission: {report['data']['test_rows']} rows in {SUBMISSION}")
    return "\n".join(lines)

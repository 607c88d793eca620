"""Score a submission file against gold labels with KLUE's metrics.

    python -m objectives.score --gold dev.json --pred submission.csv [--labels relations.json]
        [--no-relation NAME]

Prints one JSON object on stdout: micro_f1, auprc, accuracy (all x100) and n.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import numpy as np

from common.cli import UserError, run_main
from objectives.data.dataset import read_dataset
from objectives.data.labels import NO_RELATION, LabelSet, klue_labels, read_label_file
from objectives.data.predictions import Predictions, read_predictions
from objectives.metrics import accuracy, auprc, micro_f1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, read both files, print the metrics as JSON."""
    args = _parser().parse_args(argv)
    label_set = (
        read_label_file(args.labels, args.no_relation)
        if args.labels
        else klue_labels(args.no_relation)
    )
    gold = read_dataset(args.gold, label_set)
    gold_ids = [example.id for example in gold.examples]
    gold_labels = np.asarray([label_set.id(example.label) for example in gold.examples])
    predictions = read_predictions(args.pred, label_set)
    order = align(gold_ids, predictions, gold=str(args.gold), pred=str(args.pred))
    metrics = score(predictions.pred_ids[order], predictions.probs[order], gold_labels, label_set)
    print(json.dumps(metrics))
    return 0


def score(
    pred_ids: np.ndarray, probs: np.ndarray, gold_labels: np.ndarray, label_set: LabelSet
) -> dict[str, float | int]:
    """KLUE's metrics for aligned predictions: F1 and accuracy from ``pred_ids``, AUPRC from
    ``probs``."""
    return {
        "micro_f1": micro_f1(pred_ids, gold_labels, label_set),
        "auprc": auprc(probs, gold_labels, len(label_set)),
        "accuracy": accuracy(pred_ids, gold_labels),
        "n": len(gold_labels),
    }


def align(gold_ids: Sequence[str], predictions: Predictions, *, gold: str, pred: str) -> np.ndarray:
    """Row indices into ``predictions`` in gold order; UserError unless both hold the same ids."""
    row_of = {example_id: row for row, example_id in enumerate(predictions.ids)}
    missing = [example_id for example_id in gold_ids if example_id not in row_of]
    extra = sorted(set(row_of) - set(gold_ids), key=row_of.__getitem__)
    problems = []
    if missing:
        problems.append(f"{len(missing)} gold id(s) have no prediction (first: {missing[0]!r})")
    if extra:
        problems.append(
            f"{len(extra)} predicted id(s) are not in the gold file (first: {extra[0]!r})"
        )
    if problems:
        raise UserError(f"{pred}: ids do not match {gold}: " + "; ".join(problems))
    return np.asarray([row_of[example_id] for example_id in gold_ids], dtype=np.int64)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m objectives.score",
        description="Score a submission file (id,pred_label,probs) with KLUE-RE's metrics.",
    )
    parser.add_argument("--gold", required=True, help="labeled examples: KLUE JSON, JSONL or CSV")
    parser.add_argument("--pred", required=True, help="submission CSV: id,pred_label,probs")
    parser.add_argument("--labels", help="relation list file (default: the 30 KLUE relations)")
    parser.add_argument(
        "--no-relation",
        default=NO_RELATION,
        help=f"the label micro-F1 leaves out (default: {NO_RELATION})",
    )
    return parser


if __name__ == "__main__":
    run_main(main)

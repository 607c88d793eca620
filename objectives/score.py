"""Score a submission file against gold labels with KLUE's metrics.

    python -m objectives.score --gold dev.json --pred submission.csv [--labels relations.json]
        [--no-relation NAME]

Each row's ``pred_label`` must be its most probable label under the label order used, so
probabilities written in another order are refused rather than scored.

Prints one JSON object on stdout: micro_f1, auprc, accuracy (all x100) and n.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from common._cli import ArgumentParser, UserError, run_main
from objectives._metrics import accuracy, auprc, micro_f1
from objectives.data._dataset import read_dataset
from objectives.data._labels import (
    NO_RELATION,
    LabelSet,
    check_no_relation,
    klue_labels,
    read_label_file,
)
from objectives.data._predictions import (
    Predictions,
    label_order_path,
    read_label_order,
    read_predictions,
)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, read both files, print the metrics as JSON."""
    args = _parser().parse_args(argv)
    label_set, carried, source = label_orders(args.labels, args.no_relation, args.pred)
    gold = read_dataset(args.gold, label_set)
    check_no_relation((ex.label for ex in gold.examples), label_set.no_relation, str(args.gold))
    gold_ids = [example.id for example in gold.examples]
    gold_labels = np.asarray([label_set.id(example.label) for example in gold.examples])
    predictions = reorder(read_predictions(args.pred, carried, source), carried, label_set)
    order = align(gold_ids, predictions, gold=str(args.gold), pred=str(args.pred))
    metrics = score(predictions.pred_ids[order], predictions.probs[order], gold_labels, label_set)
    print(json.dumps(metrics))
    return 0


def label_orders(
    labels: str | None, no_relation: str | None, pred: str
) -> tuple[LabelSet, LabelSet, str]:
    """(the label set to score with, the order the file's ``probs`` are in, where that order
    comes from). A submission's own label order (``NAME.labels.json``) wins over --labels for
    reading; --labels, else the carried order, else KLUE's 30 is the label set scored with."""
    carried = read_label_order(pred)
    name = no_relation or (carried.no_relation if carried else NO_RELATION)
    if labels:
        label_set = read_label_file(labels, name)
    elif carried is not None:
        label_set = LabelSet(carried.names, name)
    else:
        label_set = klue_labels(name)
    if carried is None:
        source = f"--labels {labels}" if labels else "KLUE's 30 relations (no --labels given)"
        return label_set, label_set, source
    if set(carried.names) != set(label_set.names):
        only = sorted(set(carried.names) ^ set(label_set.names))[:3]
        raise UserError(
            f"{label_order_path(pred)}: its labels differ from --labels {labels} "
            f"(e.g. {', '.join(only)}); give the relation list the predictions were made with"
        )
    return label_set, LabelSet(carried.names, name), str(label_order_path(pred))


def reorder(predictions: Predictions, source: LabelSet, target: LabelSet) -> Predictions:
    """The predictions with ``probs`` columns and label ids in ``target``'s order."""
    if source.names == target.names:
        return predictions
    columns = np.asarray([source.id(name) for name in target.names])
    to_target = np.asarray([target.id(name) for name in source.names])
    return Predictions(
        predictions.ids,
        to_target[predictions.pred_ids],
        predictions.probs[:, columns],
        predictions.rows,
    )


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


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m objectives.score",
        description="Score a submission file (id,pred_label,probs) with KLUE-RE's metrics.",
    )
    parser.add_argument("--gold", required=True, help="labeled examples: KLUE JSON, JSONL or CSV")
    parser.add_argument("--pred", required=True, help="submission CSV: id,pred_label,probs")
    parser.add_argument(
        "--labels",
        help="relation list file, the order of probs (default: the order the submission carries "
        "in NAME.labels.json, else the 30 KLUE relations)",
    )
    parser.add_argument(
        "--no-relation",
        help=f"the label micro-F1 leaves out (default: the submission's, else {NO_RELATION})",
    )
    return parser


if __name__ == "__main__":
    run_main(main)

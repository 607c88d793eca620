"""KLUE-RE metrics, computed exactly as KLUE's official code does: micro-F1 and AUPRC (x100).

All functions are pure: numpy arrays in, floats out. They are meant to be called once per
evaluation over the whole evaluation set, never per batch.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, auc, f1_score, precision_recall_curve

from objectives.data._labels import LabelSet

# The warning sklearn gives when a class has no positive among the gold labels (see `auprc`).
_NO_POSITIVE_WARNING = "No positive class found in y_true"


class NonFiniteLogitsError(ValueError):
    """The model produced NaN or infinite logits (usually a diverged trial); no metric exists."""


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax over the last axis, in float64, stable for large logits."""
    x = np.asarray(logits, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def micro_f1(preds: np.ndarray, labels: np.ndarray, label_set: LabelSet) -> float:
    """Micro-F1 (x100) over every label except the no-relation one, as KLUE computes it.

    Predicting no-relation for a relation counts as a false negative, and predicting a relation
    for a no-relation example as a false positive; no-relation predicted as no-relation counts
    for nothing. With no relation in either gold or predictions the score is 0 (sklearn's value;
    ``zero_division=0`` only silences its warning).
    """
    score = f1_score(
        np.asarray(labels),
        np.asarray(preds),
        average="micro",
        labels=label_set.relation_ids,
        zero_division=0.0,
    )
    return float(score) * 100.0


def auprc(probs: np.ndarray, labels: np.ndarray, num_labels: int) -> float:
    """KLUE's AUPRC (x100): the mean over ALL ``num_labels`` classes of the per-class area under
    the precision-recall curve, integrated with the trapezoid rule (``sklearn.metrics.auc``).

    This is KLUE's ``klue_re_auprc``, not ``average_precision_score`` (a step-wise sum, which
    gives different numbers). A class with no positive among the gold labels is still averaged
    in: sklearn >= 1.1 (scikit-learn PR #19085; this project needs >= 1.3) sets its recall to 1
    at every threshold, so its curve runs from (recall 1, precision 0) to (recall 0, precision 1)
    and its area is exactly 0.5 whatever the scores (older sklearn gave NaN). sklearn's warning
    for that case is silenced here and no other.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    if probs.ndim != 2 or probs.shape[1] != num_labels:
        raise ValueError(f"probs must have shape (n, {num_labels}), got {probs.shape}")
    _check_labels(labels, probs.shape[0], num_labels)
    onehot = np.eye(num_labels)[labels]
    scores = np.zeros(num_labels)
    for c in range(num_labels):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NO_POSITIVE_WARNING, category=UserWarning)
            precision, recall, _ = precision_recall_curve(onehot[:, c], probs[:, c])
        scores[c] = auc(recall, precision)
    return float(np.mean(scores)) * 100.0


def accuracy(preds: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy over all labels, no-relation included, as a percentage (x100)."""
    return float(accuracy_score(np.asarray(labels), np.asarray(preds))) * 100.0


def evaluate(
    logits: np.ndarray,
    labels: np.ndarray,
    label_set: LabelSet,
    loss: float | None = None,
) -> dict[str, float]:
    """All KLUE metrics for one evaluation over the whole set.

    ``logits`` has shape (n, len(label_set)) and ``labels`` holds n label ids. Returns
    ``micro_f1``, ``auprc`` and ``accuracy`` (all x100) and ``loss`` when given. Raises
    :class:`NonFiniteLogitsError` for NaN/inf logits and ValueError for mismatched shapes or
    out-of-range labels (callers' bugs, not user errors).
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    _check_inputs(logits, labels, len(label_set))
    probs = softmax(logits)
    preds = probs.argmax(axis=-1)
    metrics = {
        "micro_f1": micro_f1(preds, labels, label_set),
        "auprc": auprc(probs, labels, len(label_set)),
        "accuracy": accuracy(preds, labels),
    }
    if loss is not None:
        metrics["loss"] = float(loss)
    return metrics


def _check_inputs(logits: np.ndarray, labels: np.ndarray, num_labels: int) -> None:
    if logits.ndim != 2 or logits.shape[1] != num_labels:
        raise ValueError(
            f"logits must have shape (n, {num_labels}) for {num_labels} labels, got {logits.shape}"
        )
    _check_labels(labels, logits.shape[0], num_labels)
    if not np.isfinite(logits).all():
        raise NonFiniteLogitsError("logits contain NaN or infinite values")


def _check_labels(labels: np.ndarray, n: int, num_labels: int) -> None:
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
    if n == 0:
        raise ValueError("cannot compute metrics on zero examples")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer ids, got dtype {labels.dtype}")
    # np.eye(n)[-1] would silently one-hot a padding id like -100 as the last class.
    if labels.min() < 0 or labels.max() >= num_labels:
        raise ValueError(
            f"label ids must lie in [0, {num_labels}), got {labels.min()}..{labels.max()}"
        )


def soft_vote(probs: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """The mean of several models' class probabilities, example by example."""
    stacked = np.asarray(probs, dtype=np.float64)
    if stacked.ndim != 3 or len(stacked) == 0:
        raise ValueError(f"expected (models, examples, labels) probabilities, got {stacked.shape}")
    return stacked.mean(axis=0)

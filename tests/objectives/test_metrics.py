"""KLUE metrics against hand-counted answers, a hand-written PR-AUC, and sklearn oracles."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_curve

from objectives._metrics import (
    NonFiniteLogitsError,
    accuracy,
    auprc,
    evaluate,
    micro_f1,
    softmax,
)
from objectives.data._labels import LabelSet, klue_labels

# Three samples' probabilities over three classes; the per-class areas are worked out by hand in
# test_auprc_hand_computed.
SMALL_PROBS = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.6, 0.3],
        [0.2, 0.5, 0.3],
        [0.3, 0.3, 0.4],
    ]
)
SMALL_LABELS = np.array([0, 1, 2, 1])


def trapezoid_pr_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the PR curve of one class, written from the definition.

    One curve point per distinct score t (predict positive when score >= t), starting at
    (recall 0, precision 1); areas by the trapezoid rule in order of decreasing threshold.
    A class without positives gets recall 1 at every threshold (sklearn's convention).
    """
    n_pos = positive.sum()
    points = [(0.0, 1.0)]
    for t in sorted(set(scores.tolist()), reverse=True):
        chosen = scores >= t
        tp = (positive & chosen).sum()
        fp = (~positive & chosen).sum()
        recall = tp / n_pos if n_pos else 1.0
        points.append((recall, tp / (tp + fp)))
    area = 0.0
    for (r0, p0), (r1, p1) in itertools.pairwise(points):
        area += (r1 - r0) * (p0 + p1) / 2
    return area


def hand_auprc(probs: np.ndarray, labels: np.ndarray) -> float:
    classes = range(probs.shape[1])
    return 100 * float(np.mean([trapezoid_pr_auc(labels == c, probs[:, c]) for c in classes]))


def random_case(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    logits = rng.normal(size=(n, k)) * 2
    labels = rng.integers(0, k, size=n)
    logits[np.arange(n), labels] += rng.normal(1.0, 1.0, size=n)  # a model better than chance
    return logits, labels


def test_softmax_is_stable_and_normalised() -> None:
    probs = softmax(np.array([[1000.0, 0.0, -1000.0], [1.0, 1.0, 1.0]], dtype=np.float32))
    assert probs.dtype == np.float64
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(probs[1], [1 / 3] * 3)


def test_auprc_hand_computed() -> None:
    # Class 0: the one positive ranks first: area 1.
    # Class 1: points (0,1) (.5,1) (.5,.5) (1,2/3) (1,.5): area .5 + .5 * (1/2 + 2/3) / 2 = 19/24.
    # Class 2: the top score is a negative, then the positive ties with a negative:
    #          points (0,1) (0,0) (1,1/3) (1,1/4): area 1/6.
    expected = 100 * (1 + 19 / 24 + 1 / 6) / 3
    assert auprc(SMALL_PROBS, SMALL_LABELS, 3) == pytest.approx(expected)
    assert hand_auprc(SMALL_PROBS, SMALL_LABELS) == pytest.approx(expected)


def test_auprc_is_not_average_precision() -> None:
    average_precision = 100 * np.mean(
        [average_precision_score(np.equal(SMALL_LABELS, c), SMALL_PROBS[:, c]) for c in range(3)]
    )
    # AP sums steps: (1 + (.5 + .5 * 2/3) + 1/3) / 3, not the trapezoid areas.
    assert average_precision == pytest.approx(100 * (1 + 5 / 6 + 1 / 3) / 3)
    assert auprc(SMALL_PROBS, SMALL_LABELS, 3) < average_precision - 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auprc_matches_hand_trapezoid_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits, labels = random_case(rng, 200, 6)
    probs = softmax(np.round(logits, 1))  # rounding makes ties, which the curve must handle
    assert auprc(probs, labels, 6) == pytest.approx(hand_auprc(probs, labels))


def test_auprc_class_without_positives_scores_one_half_silently() -> None:
    probs = SMALL_PROBS[:, [0, 1, 2, 2]] / SMALL_PROBS[:, [0, 1, 2, 2]].sum(1, keepdims=True)
    filters_before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = auprc(probs, SMALL_LABELS, 4)  # class 3 never occurs among the labels
    assert caught == []
    assert warnings.filters == filters_before
    per_class = [trapezoid_pr_auc(np.equal(SMALL_LABELS, c), probs[:, c]) for c in range(3)]
    assert score == pytest.approx(100 * (sum(per_class) + 0.5) / 4)


def test_auprc_no_positive_class_is_one_half_whatever_the_scores() -> None:
    labels = np.zeros(5, dtype=int)
    for scores in ([0.1, 0.2, 0.3, 0.4, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5], [0.9, 0.0, 0.9, 0.1, 0.2]):
        probs = np.column_stack([1 - np.asarray(scores), scores])
        # Class 0 has only positives: area 1; class 1 has none: area 0.5.
        assert auprc(probs, labels, 2) == pytest.approx(75.0)


def test_auprc_does_not_silence_the_warning_outside_itself() -> None:
    auprc(np.column_stack([SMALL_PROBS, np.zeros(4)]), SMALL_LABELS, 4)
    with pytest.warns(UserWarning, match="No positive class"):
        precision_recall_curve(np.zeros(3), np.array([0.1, 0.2, 0.3]))


def test_micro_f1_hand_counted_with_a_non_default_no_relation() -> None:
    labels_set = LabelSet(("x:rel", "NA", "y:rel"), "NA")
    gold = np.array([0, 1, 2, 1, 0, 2])
    pred = np.array([0, 0, 2, 1, 1, 1])
    # TP: rows 0 and 2. FP: row 1 (NA predicted x:rel). FN: rows 4 and 5 (relations predicted NA).
    # Row 3 (NA as NA) counts for nothing. P = 2/3, R = 2/4, F1 = 4/7.
    assert micro_f1(pred, gold, labels_set) == pytest.approx(100 * 4 / 7)
    assert accuracy(pred, gold) == pytest.approx(50.0)
    # With "x:rel" as the no-relation label instead: TP rows 2, 3; FP rows 4, 5; FN rows 1, 5.
    other = LabelSet(("x:rel", "NA", "y:rel"), "x:rel")
    assert micro_f1(pred, gold, other) == pytest.approx(50.0)


def test_micro_f1_ignores_correct_no_relation_predictions() -> None:
    labels_set = klue_labels()
    gold = np.array([0, 0, 0, 0, 0, 0, 5, 7])
    pred = np.array([0, 0, 0, 0, 0, 0, 7, 5])  # every no_relation right, every relation wrong
    assert accuracy(pred, gold) == pytest.approx(75.0)
    assert micro_f1(pred, gold, labels_set) == 0.0


def test_micro_f1_when_all_errors_are_on_no_relation_examples() -> None:
    labels_set = klue_labels()
    gold = np.array([3, 4, 5, 0, 0, 0])
    pred = np.array([3, 4, 5, 0, 9, 9])  # relations all right; two no_relation called relations
    # TP 3, FP 2, FN 0: P = 3/5, R = 1, F1 = 3/4.
    assert micro_f1(pred, gold, labels_set) == pytest.approx(75.0)


def test_micro_f1_with_no_relation_anywhere_is_zero() -> None:
    zeros = np.zeros(4, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert micro_f1(zeros, zeros, klue_labels()) == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_micro_f1_matches_confusion_matrix_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels_set = LabelSet(("a", "b", "none", "c", "d"), "none")
    logits, gold = random_case(rng, 300, 5)
    pred = logits.argmax(1)
    matrix = confusion_matrix(gold, pred, labels=range(5))
    keep = labels_set.relation_ids
    tp = matrix[keep, keep].sum()
    predicted = matrix[:, keep].sum()
    actual = matrix[keep, :].sum()
    expected = 100 * 2 * tp / (predicted + actual)
    assert micro_f1(pred, gold, labels_set) == pytest.approx(expected)
    assert accuracy(pred, gold) == pytest.approx(100 * np.trace(matrix) / 300)


def test_evaluate_combines_the_metrics() -> None:
    rng = np.random.default_rng(3)
    labels_set = LabelSet(("none", "a", "b", "c"), "none")
    logits, gold = random_case(rng, 120, 4)
    metrics = evaluate(logits, gold, labels_set, loss=np.float32(0.25))
    probs = softmax(logits)
    assert metrics == {
        "micro_f1": pytest.approx(micro_f1(probs.argmax(1), gold, labels_set)),
        "auprc": pytest.approx(hand_auprc(probs, gold)),
        "accuracy": pytest.approx(accuracy(logits.argmax(1), gold)),
        "loss": 0.25,
    }
    assert type(metrics["loss"]) is float
    assert "loss" not in evaluate(logits, gold, labels_set)


def test_evaluate_rejects_bad_inputs() -> None:
    labels_set = LabelSet(("none", "a", "b"), "none")
    logits = np.zeros((4, 3))
    gold = np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        evaluate(np.zeros((4, 4)), gold, labels_set)
    with pytest.raises(ValueError, match="labels must have shape"):
        evaluate(logits, gold[:3], labels_set)
    with pytest.raises(ValueError, match="zero examples"):
        evaluate(np.zeros((0, 3)), np.zeros(0, dtype=int), labels_set)
    with pytest.raises(ValueError, match="must lie in"):
        evaluate(logits, np.array([0, 1, 2, -100]), labels_set)
    with pytest.raises(ValueError, match="integer"):
        evaluate(logits, gold.astype(float), labels_set)
    with pytest.raises(NonFiniteLogitsError):
        evaluate(np.full((4, 3), np.nan), gold, labels_set)

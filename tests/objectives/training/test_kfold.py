"""K-fold retraining without a study: fold assignment, soft voting, and the fold loop (stubbed)."""

import numpy as np
import pytest

from common._cli import UserError
from objectives._hparams import HParams, RunSettings
from objectives._metrics import auprc, micro_f1
from objectives.data._dataset import Dataset, Entity, Example
from objectives.data._labels import klue_labels
from objectives.training._kfold import (
    FoldFailed,
    check_folds,
    floors,
    fold_assignment,
    label_ids,
    run_kfold,
    soft_vote,
)
from objectives.training._loop import RunResult

LABELS = klue_labels()


def dataset(labels, path="train.json", prefix="x"):
    examples = tuple(
        Example(
            f"{prefix}{i}",
            "가나다 라마",
            Entity("가나다", 0, 2, "PER"),
            Entity("라마", 4, 5, "ORG"),
            y,
        )
        for i, y in enumerate(labels)
    )
    return Dataset(path, examples)


@pytest.mark.parametrize(("k", "seed"), [(2, 0), (3, 1), (5, 7)])
def test_folds_are_stratified_and_hold_out_each_example_once(k, seed):
    rng = np.random.default_rng(seed)
    labels = rng.choice(4, size=203, p=[0.55, 0.25, 0.15, 0.05])
    fold_of = fold_assignment(labels, k, seed)
    assert fold_of.shape == labels.shape
    assert set(fold_of.tolist()) == set(range(k))  # every example in exactly one fold
    for c in range(4):
        per_fold = np.bincount(fold_of[labels == c], minlength=k)
        assert per_fold.max() - per_fold.min() <= 1, (c, per_fold)


def test_fold_assignment_follows_the_seed():
    labels = np.arange(100) % 3
    assert (fold_assignment(labels, 4, 1) == fold_assignment(labels, 4, 1)).all()
    assert (fold_assignment(labels, 4, 1) != fold_assignment(labels, 4, 2)).any()


def test_soft_vote_is_the_mean_of_the_probabilities():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(5), size=(3, 7))
    vote = soft_vote(list(probs))
    np.testing.assert_allclose(vote, (probs[0] + probs[1] + probs[2]) / 3)
    np.testing.assert_allclose(vote.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="models, examples, labels"):
        soft_vote(probs[0])


def test_folds_must_fit_the_smallest_class():
    train = dataset(["no_relation"] * 10 + ["per:title"] * 3 + ["org:members"] * 5, "d/train.csv")
    check_folds(train, 3)
    expected = r"--folds 4: class 'per:title' has only 3 example\(s\) in d/train\.csv.*--folds 3 or"
    with pytest.raises(UserError, match=expected):
        check_folds(train, 4)
    with pytest.raises(UserError, match="--folds: must be at least 2, got 1"):
        check_folds(train, 1)
    single = dataset(["no_relation"] * 10 + ["per:title"])
    with pytest.raises(UserError, match=r"'per:title' has only 1 example.*add examples"):
        check_folds(single, 2)


def test_floors_are_what_a_model_that_learned_nothing_scores():
    gold = np.array([1] * 6 + [0] * 4)  # majority: org:dissolved (a relation)
    floor = floors(gold, LABELS)
    assert floor["micro_f1"] == pytest.approx(micro_f1(np.ones(10, int), gold, LABELS), abs=1e-4)
    assert floor["auprc"] == pytest.approx((0.4 + 0.6 + 28 * 0.5) / 30 * 100, abs=1e-4)
    # random rankings average about that; tied (constant) probabilities score far more
    rng = np.random.default_rng(0)
    gold = rng.choice(3, size=400, p=[0.7, 0.2, 0.1])
    chance = np.mean([auprc(rng.dirichlet(np.ones(30), 400), gold, 30) for _ in range(20)])
    assert floors(gold, LABELS)["auprc"] == pytest.approx(chance, abs=1.0)
    assert auprc(np.full((400, 30), 1 / 30), gold, 30) > chance + 2


class StubRunner:
    """fine_tune's contract without training: dev logits favour each held-out example's gold
    label (so out-of-fold scores are perfect only if rows land where they belong); test logits
    are the fold's number, so the vote is checkable."""

    def __init__(self, diverge_on=None):
        self.calls = []
        self.diverge_on = diverge_on

    def __call__(self, hp, settings, data, report, workspace):
        fold = len(self.calls)
        self.calls.append(data)
        gold = label_ids(data.dev, data.labels)
        dev_logits = np.eye(len(data.labels), dtype=np.float32)[gold] * 8.0
        test_logits = np.zeros((len(data.test), len(data.labels)), dtype=np.float32)
        test_logits[:, 0] = fold
        diverged = fold == self.diverge_on
        return RunResult(
            status="diverged" if diverged else "complete",
            reason="non-finite training loss at step 3" if diverged else None,
            metrics={},
            best_step=4,
            steps=6,
            total_steps=6,
            evaluations=[],
            timings={"train": 0.5},
            memory={},
            micro_batch_size=8,
            dev_logits=None if diverged else dev_logits,
            test_logits=None if diverged else test_logits,
        )


def test_run_kfold_puts_out_of_fold_rows_back_in_place_and_votes(tmp_path):
    train = dataset(["no_relation", "per:title", "org:members"] * 6 + ["per:title"] * 3)
    test = dataset(["no_relation"] * 4, "test.json", prefix="t")
    dev = dataset(["per:title", "no_relation"], "dev.json", prefix="d")
    runner = StubRunner()
    settings = RunSettings(model=str(tmp_path))  # a directory: no model is built
    result = run_kfold(HParams(seed=3), settings, train, LABELS, 3, test, dev, runner=runner)
    held_out = [ex.id for data in runner.calls for ex in data.dev.examples]
    assert sorted(held_out) == sorted(ex.id for ex in train.examples)  # each exactly once
    for data in runner.calls:
        assert not {ex.id for ex in data.train.examples} & {ex.id for ex in data.dev.examples}
        assert len(data.test) == len(test) + len(dev)  # test and dev predicted in one pass
    assert result.oof["micro_f1"] == 100.0 and result.oof["accuracy"] == 100.0
    assert (result.oof_probs.argmax(axis=1) == label_ids(train, LABELS)).all()
    assert [f.held_out_rows for f in result.folds] == [7, 7, 7]
    assert sorted(np.bincount(result.fold_of).tolist()) == [7, 7, 7]
    # the vote is the mean of the folds' test probabilities
    fold_probs = np.stack([f.test_probs for f in result.folds])
    np.testing.assert_allclose(result.vote, fold_probs.mean(axis=0))
    assert not np.allclose(fold_probs[0], fold_probs[2])
    assert result.vote.shape == (4, 30)
    # dev rows are the tail of the prediction pass; the stub predicts class 0 there
    assert all(f.dev["micro_f1"] == 0.0 for f in result.folds)
    assert result.vote_dev["accuracy"] == 50.0


def test_a_diverged_fold_fails_the_whole_run(tmp_path):
    train = dataset(["no_relation", "per:title"] * 4)
    test = dataset(["no_relation"], "test.json", prefix="t")
    runner = StubRunner(diverge_on=1)
    with pytest.raises(FoldFailed, match="fold 2 of 2: non-finite training loss at step 3"):
        run_kfold(
            HParams(), RunSettings(model=str(tmp_path)), train, LABELS, 2, test, runner=runner
        )

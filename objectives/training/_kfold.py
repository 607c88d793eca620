"""K-fold retraining of one configuration and soft voting of the K models (no study involved).

Fold k trains on the other K-1 folds, picks its best step on the held-out fold k and predicts
it (out-of-fold) and the test set. The out-of-fold predictions of all folds cover every training
example exactly once, so they score the configuration on the whole training set; the K models'
test probabilities are averaged (soft voting) into one submission.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedKFold

from common._cli import UserError
from objectives._hparams import HParams, RunSettings
from objectives._metrics import evaluate, micro_f1, soft_vote, softmax
from objectives.data._dataset import Dataset
from objectives.data._inputs import TrialData
from objectives.data._labels import LabelSet
from objectives.training._loop import Report, RunResult, Workspace, fine_tune

Runner = Callable[[HParams, RunSettings, TrialData, Report, Workspace], RunResult]
OnFold = Callable[["FoldResult"], None]


class FoldFailed(RuntimeError):
    """A fold's run did not end well (diverged): the configuration, not the input, is at fault."""


@dataclass
class FoldResult:
    """One fold: its sizes, where its run ended, and its scores (out-of-fold, and on dev)."""

    fold: int
    train_rows: int
    held_out_rows: int
    best_step: int
    steps: int
    oof: dict[str, float]
    dev: dict[str, float] | None = None
    seconds: float = 0.0
    test_probs: np.ndarray | None = field(default=None, repr=False)


@dataclass
class KFoldResult:
    """All folds. ``oof_probs`` is row-aligned with the training examples, ``fold_of`` says which
    fold held each one out, ``vote`` is the mean of the folds' test probabilities."""

    folds: list[FoldResult]
    fold_of: np.ndarray
    oof_logits: np.ndarray = field(repr=False)
    oof: dict[str, float]
    vote: np.ndarray | None = field(repr=False)
    vote_dev: dict[str, float] | None = None

    @property
    def oof_probs(self) -> np.ndarray:
        return softmax(self.oof_logits)


def check_folds(train: Dataset, k: int) -> None:
    """Every class must have at least ``k`` examples, so that each fold holds one out.

    scikit-learn's StratifiedKFold only warns about a smaller class (and builds folds without
    it); here it is the user's choice to make, before any training.
    """
    if k < 2:
        raise UserError(f"--folds: must be at least 2, got {k}")
    if len(train) < k:
        raise UserError(f"--folds {k}: {train.path} has only {len(train)} examples")
    counts = Counter(ex.label for ex in train.examples)
    label, count = min(counts.items(), key=lambda item: (item[1], str(item[0])))
    if count < k:
        advice = f"use --folds {count} or fewer" if count >= 2 else "add examples of it"
        raise UserError(
            f"--folds {k}: class {label!r} has only {count} example(s) in {train.path}; "
            f"stratified folds need one per fold ({advice})"
        )


def fold_assignment(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The held-out fold (0..k-1) of each example: stratified by label, shuffled with ``seed``."""
    labels = np.asarray(labels)
    fold_of = np.full(len(labels), -1, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        fold_of[held_out] = fold
    return fold_of


def floors(labels: np.ndarray, label_set: LabelSet) -> dict[str, float]:
    """What a model that learned nothing scores: micro-F1 of always predicting the most frequent
    class, and AUPRC of ranking at random (each class's area is about its share of the
    examples; a class without examples scores 0.5, as in :func:`objectives.auprc`).

    Not the AUPRC of constant probabilities: KLUE's trapezoid rule gives tied scores
    (1 + share) / 2 per class, more than most trained models reach.
    """
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=len(label_set))
    shares = np.where(counts > 0, counts / counts.sum(), 0.5)
    majority = np.full_like(labels, counts.argmax())
    return {
        "micro_f1": round(micro_f1(majority, labels, label_set), 4),
        "auprc": round(float(shares.mean()) * 100.0, 4),
    }


def run_kfold(
    hp: HParams,
    settings: RunSettings,
    train: Dataset,
    labels: LabelSet,
    k: int,
    test: Dataset | None = None,
    dev: Dataset | None = None,
    runner: Runner = fine_tune,
    workspace: Workspace | None = None,
    on_fold: OnFold | None = None,
) -> KFoldResult:
    """Train ``hp`` on K stratified folds of ``train`` (split with ``hp.seed``); soft-vote on
    ``test``. With ``dev``, each fold model and the vote are also scored on it (one more
    prediction pass per fold, no training). Raises :class:`FoldFailed` if a fold diverges."""
    check_folds(train, k)
    workspace = workspace or Workspace(settings.cache_dir)
    gold = label_ids(train, labels)
    fold_of = fold_assignment(gold, k, hp.seed)
    everything = TrialData(train, train if dev is None else dev, labels, test)
    settings = _one_base_model(settings, workspace, everything)
    predicted = _predicted(test, dev)
    oof_logits = np.zeros((len(train), len(labels)), dtype=np.float32)
    folds: list[FoldResult] = []
    dev_probs: list[np.ndarray] = []
    for fold in range(k):
        run = _Fold(fold, k, fold_of, train, gold, labels, predicted)
        result = run.train(runner, hp, settings, workspace)
        oof_logits[run.held_out] = result.dev_logits
        fold_result = run.scored(result)
        if predicted is not None:
            dev_probs.extend(run.predicted(result, fold_result, test, dev))
        folds.append(fold_result)
        if on_fold is not None:
            on_fold(fold_result)
    return KFoldResult(
        folds=folds,
        fold_of=fold_of,
        oof_logits=oof_logits,
        oof=_scores(evaluate(oof_logits, gold, labels)),
        vote=soft_vote([f.test_probs for f in folds]) if test is not None else None,
        vote_dev=None
        if dev is None
        else _scores(_evaluate_probs(soft_vote(dev_probs), dev, labels)),
    )


def _one_base_model(settings: RunSettings, workspace: Workspace, everything: TrialData):
    """One base model for every fold: the built-in tiny model's tokenizer is trained on the
    sentences it sees, and a fold must not get its own."""
    return dataclasses.replace(settings, model=workspace.model_path(settings.model, everything))


class _Fold:
    """One fold of a K-fold run: its rows, its training, its scores."""

    def __init__(self, fold, k, fold_of, train, gold, labels, predicted) -> None:
        self.fold, self.k, self.gold, self.labels = fold, k, gold, labels
        self.held_out = np.flatnonzero(fold_of == fold)
        self.rest = np.flatnonzero(fold_of != fold)
        self.data = TrialData(
            _subset(train, self.rest, f"fold {fold + 1} train"),
            _subset(train, self.held_out, f"fold {fold + 1} held out"),
            labels,
            predicted,
        )

    def train(self, runner: Runner, hp, settings, workspace) -> RunResult:
        self.started = time.perf_counter()
        result = runner(hp, settings, self.data, None, workspace)
        if result.status != "complete" or result.dev_logits is None:
            raise FoldFailed(f"fold {self.fold + 1} of {self.k}: {result.reason or result.status}")
        return result

    def scored(self, result: RunResult) -> FoldResult:
        return FoldResult(
            fold=self.fold,
            train_rows=len(self.rest),
            held_out_rows=len(self.held_out),
            best_step=result.best_step,
            steps=result.steps,
            oof=_scores(evaluate(result.dev_logits, self.gold[self.held_out], self.labels)),
            seconds=round(time.perf_counter() - self.started, 2),
        )

    def predicted(
        self, result: RunResult, scored: FoldResult, test: Dataset | None, dev: Dataset | None
    ) -> list[np.ndarray]:
        """The fold model's test probabilities into ``scored``, and its dev scores; returns its
        dev probabilities (none without ``dev``) for the vote."""
        probs = softmax(result.test_logits)
        if test is not None:
            scored.test_probs = probs[: len(test)]
        if dev is None:
            return []
        dev_probs = probs[len(probs) - len(dev) :]
        scored.dev = _scores(_evaluate_probs(dev_probs, dev, self.labels))
        return [dev_probs]


def label_ids(dataset: Dataset, labels: LabelSet) -> np.ndarray:
    return np.asarray([labels.id(ex.label) for ex in dataset.examples], dtype=np.int64)


def _predicted(test: Dataset | None, dev: Dataset | None) -> Dataset | None:
    """What each fold model predicts after training: test, then dev, in one pass."""
    parts = [d for d in (test, dev) if d is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    examples = tuple(ex for d in parts for ex in d.examples)
    return Dataset(" + ".join(d.path for d in parts), examples)


def _subset(dataset: Dataset, indices: np.ndarray, name: str) -> Dataset:
    return Dataset(f"{dataset.path} ({name})", tuple(dataset.examples[i] for i in indices))


def _evaluate_probs(probs: np.ndarray, dataset: Dataset, labels: LabelSet) -> dict[str, float]:
    # log-probabilities are logits with the same softmax; the floor keeps a zero finite
    logits = np.log(np.clip(probs, 1e-12, None))
    return evaluate(logits, label_ids(dataset, labels), labels)


def _scores(metrics: dict[str, float]) -> dict[str, float]:
    return {name: round(float(value), 4) for name, value in metrics.items()}

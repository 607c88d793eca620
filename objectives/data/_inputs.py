"""The data of a run, read once at the edge: train, dev, optional test, and the label set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common._cli import UserError
from objectives.data._dataset import Dataset, read_dataset
from objectives.data._labels import (
    KLUE_RELATIONS,
    NO_RELATION,
    LabelSet,
    check_no_relation,
    infer_labels,
    klue_labels,
    read_label_file,
)


@dataclass(frozen=True)
class TrialData:
    """Train and dev (labeled), an optional test set, and the label set."""

    train: Dataset
    dev: Dataset
    labels: LabelSet
    test: Dataset | None = None

    def sentences(self) -> list[str]:
        """Every sentence (never a label): the corpus the built-in tiny tokenizer is trained on."""
        sets = [self.train, self.dev] + ([self.test] if self.test is not None else [])
        return [ex.sentence for ds in sets for ex in ds.examples]

    @property
    def fingerprint(self) -> str:
        parts = [self.train.fingerprint, self.dev.fingerprint]
        if self.test is not None:
            parts.append(self.test.fingerprint)
        return "-".join(parts)


def load_trial_data(
    train: str | Path,
    dev: str | Path,
    test: str | Path | None = None,
    labels_file: str | Path | None = None,
    no_relation: str = NO_RELATION,
) -> TrialData:
    """Read the files; the label set is the relation list given, else inferred from train."""
    if labels_file is not None:
        labels = read_label_file(labels_file, no_relation)
        train_set = read_dataset(train, labels)
    else:
        train_set = read_dataset(train, None)
        names = [ex.label for ex in train_set.examples if ex.label is not None]
        if all(name.isdigit() for name in names):
            # integer ids without a relation list: KLUE's order gives them names
            labels = klue_labels(no_relation)
            train_set = read_dataset(train, labels)
        else:
            labels = infer_labels(names, no_relation)
    dev_set = read_dataset(dev, labels)
    observed = [ex.label for ds in (train_set, dev_set) for ex in ds.examples]
    check_no_relation(observed, labels.no_relation, f"{train}, {dev}")
    test_set = read_dataset(test, labels, with_labels=False) if test is not None else None
    if len({ex.label for ex in train_set.examples}) < 2:
        raise UserError(f"{train}: needs at least two different labels to train a classifier")
    return TrialData(train_set, dev_set, labels, test_set)


def data_paths(
    train: Path | None, dev: Path | None, test: Path | None
) -> tuple[Path, Path, Path | None]:
    """The given files, or the built-in sample data where neither train nor dev is given."""
    if train is None and dev is None:
        from objectives.data._sample_data import ensure_sample_data

        root = ensure_sample_data()
        return root / "train.json", root / "dev.json", test
    if train is None or dev is None:
        raise UserError("--train and --dev go together (give both, or neither for the sample data)")
    return train, dev, test


def describe_labels(data: TrialData, labels_file: str | Path | None) -> str:
    """One line for the start of a run: the label set, where it comes from, the no-relation
    label, and what reading the files repaired."""
    labels = data.labels
    if labels_file is not None:
        source = f"from {labels_file}"
    elif labels.names == KLUE_RELATIONS:
        source = "KLUE's 30 in their order, inferred from --train"
    else:
        source = "inferred from --train"
    shown = ", ".join(labels.names[:6]) + (", ..." if len(labels) > 6 else "")
    line = f"labels: {len(labels)} ({source}): {shown}; no-relation label: {labels.no_relation}"
    sets = (data.train, data.dev)
    repaired = sum(ds.repaired for ds in sets)
    straightened = sum(ds.straightened for ds in sets)
    if repaired:
        line += f"; {repaired} entity offsets repaired"
    if straightened:
        line += f"; {straightened} curly-quoted entity strings read"
    return line

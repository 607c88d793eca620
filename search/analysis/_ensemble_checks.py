"""Checks that an ensemble's stored predictions are of the data it is scored and submitted on:
the same ids in the same order, and the study's recorded fingerprints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common._cli import UserError
from objectives.data._dataset import Dataset, read_dataset
from objectives.data._labels import LabelSet
from objectives.data._predictions import Predictions
from search._datafiles import locate, missing
from search.analysis._members import Member


def load_dev(data: dict[str, Any], dev: Path | None, labels: LabelSet) -> Dataset:
    """--dev (a directory is searched for the study's dev file), else the recorded file."""
    path = locate(dev, data, "dev", "--dev", labels)
    if path is None:
        raise missing(data, "dev", "--dev")
    return read_dataset(path, labels)


def dev_ids_source(dev: Path | None, data: dict[str, Any]) -> str:
    return f"--dev {dev}" if dev is not None else f"the study's dev file {data.get('dev')}"


def first_mismatch(expected: tuple[str, ...], found: tuple[str, ...]) -> tuple[int, str, str]:
    """(1-based row, expected id, found id) of the first difference; '(none)' past an end."""
    for row in range(max(len(expected), len(found))):
        a = expected[row] if row < len(expected) else "(none)"
        b = found[row] if row < len(found) else "(none)"
        if a != b:
            return row + 1, a, b
    return 0, "", ""


def check_ids(source: str, data: Dataset, stored: list[tuple[int, Predictions]]) -> None:
    """The file's ids, in order, must be the stored predictions' ids."""
    ids = tuple(ex.id for ex in data.examples)
    for number, predictions in stored:
        if predictions.ids != ids:
            row, mine, theirs = first_mismatch(ids, predictions.ids)
            raise UserError(
                f"{source}: row {row} has id {mine!r}, but trial {number}'s stored predictions "
                f"have {theirs!r} there ({len(ids)} rows vs {len(predictions)})"
            )


def check_fingerprint(source: str, dataset: Dataset, data: dict[str, Any], split: str) -> None:
    """The file must be the data the study's trials predicted (same content hash)."""
    expected = data.get(f"{split}_fingerprint")
    if expected is None and split == "dev" and data.get("fingerprint"):
        expected = str(data["fingerprint"]).split("-")[1]  # studies before dev_fingerprint
    if expected is not None and dataset.fingerprint != expected:
        raise UserError(
            f"{source} {dataset.path}: fingerprint {dataset.fingerprint} is not the study's "
            f"{split} data ({expected}); give the {split} file the search ran with"
        )


def check_test(
    members: list[Member], test: Path | None, data: dict[str, Any], labels: LabelSet
) -> None:
    """All members predicted the same test ids; a --test file has exactly those ids and the
    study's recorded test fingerprint."""
    first = members[0]
    for m in members[1:]:
        if m.test.ids != first.test.ids:
            row, mine, theirs = first_mismatch(first.test.ids, m.test.ids)
            raise UserError(
                f"trial {m.trial.number}'s stored test predictions have id {theirs!r} at row "
                f"{row} where trial {first.trial.number}'s have {mine!r} (another test file)"
            )
    if test is None:
        return
    test = locate(test, data, "test", "--test", labels) or test
    dataset = read_dataset(test, labels, with_labels=False)
    check_ids(f"--test {test}", dataset, [(first.trial.number, first.test)])
    check_fingerprint("--test", dataset, data, "test")

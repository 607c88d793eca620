"""Finding the data files a study was searched on, from any directory and after a move.

A study records each file's absolute path and content fingerprint. Commands run later
(final, ensemble) use the recorded path where the file is still there; otherwise the user
points to the file, or to a directory in which the file with the recorded fingerprint is found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common._cli import UserError
from objectives.data._dataset import read_dataset
from objectives.data._labels import LabelSet

DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv")


def absolute(path: str | Path | None) -> str | None:
    """The path as the study stores it: absolute, so later commands work from any directory."""
    return None if path is None else str(Path(path).expanduser().resolve())


def saved_fingerprint(data: dict[str, Any], split: str) -> str | None:
    """The fingerprint a study records for ``split`` (train, dev or test)."""
    if data.get(f"{split}_fingerprint"):
        return str(data[f"{split}_fingerprint"])
    parts = str(data.get("fingerprint") or "").split("-")
    position = {"train": 0, "dev": 1}.get(split)
    return parts[position] if position is not None and len(parts) > position else None


def locate(
    given: Path | None,
    data: dict[str, Any],
    split: str,
    flag: str,
    labels: LabelSet | None = None,
) -> Path | None:
    """The file to read for ``split``: ``given`` (a directory is searched for the file with the
    recorded fingerprint), else the recorded path where it exists, else None."""
    expected = saved_fingerprint(data, split)
    if given is not None and given.is_dir():
        if expected is None:
            raise UserError(f"{flag} {given}: the study records no {split} fingerprint to find")
        return find_by_fingerprint(given, expected, flag, labels, with_labels=split != "test")
    if given is not None:
        return given
    recorded = data.get(split)
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    return None


def missing(data: dict[str, Any], split: str, flag: str) -> UserError:
    """The error for a recorded file that is not where the study says."""
    recorded = data.get(split)
    if not recorded:
        return UserError(f"{flag}: the study records no {split} file; pass {flag} FILE")
    where = "" if Path(recorded).is_absolute() else " (a path relative to where the search ran)"
    return UserError(
        f"{flag}: the study's {split} file {recorded}{where} is not here; pass {flag} FILE, or "
        f"{flag} DIR to find it there by its fingerprint {saved_fingerprint(data, split)}"
    )


def find_by_fingerprint(
    directory: Path,
    fingerprint: str,
    flag: str,
    labels: LabelSet | None,
    with_labels: bool = True,
) -> Path:
    """The data file under ``directory`` (two levels deep) whose content has ``fingerprint``."""
    candidates = sorted(
        p
        for pattern in ("*", "*/*")
        for p in directory.glob(pattern)
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
    )
    for path in candidates:
        try:
            dataset = read_dataset(path, labels, with_labels=with_labels)
        except UserError:
            continue  # not a data file of this study
        if dataset.fingerprint == fingerprint:
            return path
    raise UserError(
        f"{flag} {directory}: none of its {len(candidates)} data files has the study's "
        f"fingerprint {fingerprint}"
    )

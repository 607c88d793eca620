"""Submission files: ``id,pred_label,probs``, as the KLUE-RE competition's submission CSV.

``pred_label`` is a relation name; ``probs`` is the list of class probabilities in label order,
written like ``[0.1, 0.9]``.
"""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.cli import UserError
from common.files import csv_rows, read_text, write_text_atomic
from objectives.data.labels import LabelSet

COLUMNS = ("id", "pred_label", "probs")


@dataclass(frozen=True, eq=False)
class Predictions:
    """Predictions read from a submission file; arrays are read-only.

    ``pred_ids`` holds the label id of each ``pred_label``; ``probs`` has shape (n, labels).
    """

    ids: tuple[str, ...]
    pred_ids: np.ndarray
    probs: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def write_predictions(
    path: str | Path, ids: Sequence[str], probs: np.ndarray, label_set: LabelSet
) -> None:
    """Write a submission file atomically; ``pred_label`` is the most probable relation.

    The file is written next to ``path`` under a temporary name and then renamed over it, so a
    reader never sees half a file; the directory must exist. Raises ValueError for mismatched
    shapes, values outside [0, 1] or repeated ids (callers' bugs).
    """
    path = Path(path)
    probs = np.asarray(probs, dtype=np.float64)
    _check_for_writing(ids, probs, len(label_set))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for example_id, row in zip(ids, probs, strict=True):
        writer.writerow((example_id, label_set.name(int(row.argmax())), format_probs(row)))
    write_text_atomic(path, buffer.getvalue())


def format_probs(row: np.ndarray) -> str:
    """``[0.1, 0.9]``: Python's shortest round-trip form of each float, readable as JSON."""
    return "[" + ", ".join(map(repr, np.asarray(row, dtype=np.float64).tolist())) + "]"


def read_predictions(path: str | Path, label_set: LabelSet) -> Predictions:
    """Read a submission file written by :func:`write_predictions` or by competition code.

    Extra columns are ignored. Raises :class:`UserError` naming the file, row (1-based, header
    not counted) and field for: a missing or empty file, non-UTF-8 text, a missing column, an
    unknown ``pred_label``, ``probs`` that is not a list of ``len(label_set)`` probabilities, or
    a repeated id.
    """
    path = Path(path)
    rows = _csv_rows(path, _read_text(path))
    ids: list[str] = []
    pred_ids: list[int] = []
    probs: list[list[float]] = []
    first_row: dict[str, int] = {}
    for number, row in rows:
        where = f"{path}: row {number}"
        example_id = row["id"].strip()
        if not example_id:
            raise UserError(f"{where}: id: empty")
        if example_id in first_row:
            raise UserError(f"{where}: id {example_id!r} repeats row {first_row[example_id]}")
        first_row[example_id] = number
        ids.append(example_id)
        pred_ids.append(_pred_id(f"{where}: pred_label", row["pred_label"], label_set))
        probs.append(parse_probs(f"{where}: probs", row["probs"], len(label_set)))
    return Predictions(
        ids=tuple(ids),
        pred_ids=_read_only(np.asarray(pred_ids, dtype=np.int64)),
        probs=_read_only(np.asarray(probs, dtype=np.float64).reshape(len(ids), len(label_set))),
    )


def parse_probs(where: str, text: str, num_labels: int) -> list[float]:
    """Parse ``[0.1, 0.9]`` with a literal parser (JSON, then Python literals; never eval)."""
    text = text.strip()
    if not text:
        raise UserError(f"{where}: empty")
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise UserError(f"{where}: not a list of numbers: {_clip(text)}") from None
    if not isinstance(value, list | tuple):
        raise UserError(f"{where}: not a list of numbers: {_clip(text)}")
    if len(value) != num_labels:
        raise UserError(f"{where}: has {len(value)} values, expected {num_labels} (one per label)")
    floats = []
    for position, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise UserError(f"{where}: value {position} is {_clip(repr(p))}, not a number")
        if not 0.0 <= p <= 1.0:  # also false for NaN
            raise UserError(
                f"{where}: value {position} is {_clip(repr(p))}, not a probability in [0, 1]"
            )
        floats.append(float(p))
    return floats


def _pred_id(where: str, name: str, label_set: LabelSet) -> int:
    name = name.strip()
    if not name:
        raise UserError(f"{where}: empty")
    if name not in label_set:
        raise UserError(f"{where}: {_clip(name)!r} is not a known relation (see --labels)")
    return label_set.id(name)


def _read_text(path: Path) -> str:
    text = read_text(path, "prediction file")
    if not text.strip():
        raise UserError(f"{path}: file is empty")
    return text


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, str]]]:
    header, rows = csv_rows(path, text)
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise UserError(
            f"{path}: missing column {missing[0]!r} (the header must name {', '.join(COLUMNS)})"
        )
    if not rows:
        raise UserError(f"{path}: no prediction rows after the header")
    return rows


def _check_for_writing(ids: Sequence[str], probs: np.ndarray, num_labels: int) -> None:
    if probs.ndim != 2 or probs.shape != (len(ids), num_labels):
        raise ValueError(
            f"probs must have shape ({len(ids)}, {num_labels}) for {len(ids)} ids, "
            f"got {probs.shape}"
        )
    if not ((probs >= 0.0) & (probs <= 1.0)).all():
        raise ValueError("probs must be probabilities in [0, 1] (NaN is not); pass softmax output")
    if len(set(ids)) != len(ids):
        raise ValueError("ids repeat; a submission needs one row per example")


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

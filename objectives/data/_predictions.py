"""Submission files: ``id,pred_label,probs``, as the KLUE-RE competition's submission CSV.

``pred_label`` is a relation name; ``probs`` is the list of class probabilities in label order,
written like ``[0.1, 0.9]``. The label order travels beside the file, in ``NAME.labels.json``
(the CSV itself stays in the competition's format), so a reader need not guess it.
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

from common._cli import RowErrors, UserError
from common._files import csv_rows, read_text, write_text_atomic
from objectives.data._labels import LabelSet

COLUMNS = ("id", "pred_label", "probs")


@dataclass(frozen=True, eq=False)
class Predictions:
    """Predictions read from a submission file; arrays are read-only.

    ``pred_ids`` holds the label id of each ``pred_label``; ``probs`` has shape (n, labels).
    """

    ids: tuple[str, ...]
    pred_ids: np.ndarray
    probs: np.ndarray
    rows: tuple[int, ...] = ()

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
    write_text_atomic(label_order_path(path), json.dumps(label_set.to_json(), ensure_ascii=False))


def label_order_path(path: str | Path) -> Path:
    """Where the label order of a submission file's ``probs`` is written: ``NAME.labels.json``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.labels.json")


def read_label_order(path: str | Path) -> LabelSet | None:
    """The label order a submission file carries beside it, or None where it carries none."""
    side = label_order_path(path)
    if not side.exists():
        return None
    try:
        data = json.loads(read_text(side, "label order file"))
        return LabelSet(tuple(data["names"]), data["no_relation"])
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{side}: not a label order (expected 'names' and 'no_relation')") from None


def format_probs(row: np.ndarray) -> str:
    """``[0.1, 0.9]``: Python's shortest round-trip form of each float, readable as JSON."""
    return "[" + ", ".join(map(repr, np.asarray(row, dtype=np.float64).tolist())) + "]"


def read_predictions(
    path: str | Path, label_set: LabelSet, order_source: str = "the label order given"
) -> Predictions:
    """Read a submission file written by :func:`write_predictions` or by competition code;
    ``probs`` are read in ``label_set``'s order.

    Extra columns are ignored. Raises :class:`UserError` naming the file, row (1-based, header
    not counted) and field for: a missing or empty file, non-UTF-8 text, a missing column, an
    unknown ``pred_label``, ``probs`` that is not a list of ``len(label_set)`` probabilities, a
    ``pred_label`` that is not the most probable label under that order (``probs`` written in
    another order, named by ``order_source``), or a repeated id.
    """
    path = Path(path)
    rows = _csv_rows(path, _read_text(path))
    ids: list[str] = []
    pred_ids: list[int] = []
    probs: list[list[float]] = []
    first_row: dict[str, int] = {}
    errors = RowErrors(str(path))
    for number, row in rows:
        try:
            where = f"{path}: row {number}"
            example_id, pred_id, row_probs = _row(where, row, label_set, order_source)
            if example_id in first_row:
                raise UserError(f"{where}: id {example_id!r} repeats row {first_row[example_id]}")
        except LabelOrderMismatch:
            raise  # one line: every later row would say the same
        except UserError as exc:
            errors.add(str(exc))
            continue
        first_row[example_id] = number
        ids.append(example_id)
        pred_ids.append(pred_id)
        probs.append(row_probs)
    errors.raise_if_any()
    return Predictions(
        ids=tuple(ids),
        pred_ids=_read_only(np.asarray(pred_ids, dtype=np.int64)),
        probs=_read_only(np.asarray(probs, dtype=np.float64).reshape(len(ids), len(label_set))),
        rows=tuple(number for number, _ in rows),
    )


class LabelOrderMismatch(UserError):
    """A ``pred_label`` that is not its row's most probable label under the order given."""


def _row(
    where: str, row: dict[str, str], label_set: LabelSet, order_source: str
) -> tuple[str, int, list[float]]:
    """One row's id, label id and probabilities, checked against each other."""
    example_id = row["id"].strip()
    if not example_id:
        raise UserError(f"{where}: id: empty")
    pred_id = _pred_id(f"{where}: pred_label", row["pred_label"], label_set)
    probs = parse_probs(f"{where}: probs", row["probs"], len(label_set))
    _check_argmax(f"{where} (id {example_id})", pred_id, probs, label_set, order_source)
    return example_id, pred_id, probs


def _check_argmax(
    where: str, pred_id: int, probs: list[float], label_set: LabelSet, order_source: str
) -> None:
    """``pred_label`` must be a most probable label: otherwise ``probs`` are in another order
    than ``label_set`` and every probability-based score (AUPRC) would be silently wrong."""
    top = max(range(len(probs)), key=probs.__getitem__)
    if probs[pred_id] < probs[top]:
        raise LabelOrderMismatch(
            f"{where}: pred_label {label_set.name(pred_id)!r} has probability "
            f"{probs[pred_id]:.4g} but {label_set.name(top)!r} has {probs[top]:.4g} under "
            f"{order_source}: the probs are in another label order (give the relation list they "
            "were written with, --labels) or pred_label was not chosen by them"
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

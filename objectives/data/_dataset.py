"""KLUE-RE examples read from KLUE JSON, JSONL or competition CSV into a :class:`Dataset`.

The file formats are read here; each record is checked and made an :class:`Example` by
:mod:`objectives.data._rows`. ``Entity`` and ``Example`` are defined in
:mod:`objectives.data._examples` and may be imported from here along with the reader.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common._cli import RowErrors, UserError
from common._files import csv_rows, read_text
from objectives.data._examples import Entity, Example
from objectives.data._labels import LabelSet
from objectives.data._rows import Repairs, example_from_row


@dataclass(frozen=True)
class Dataset:
    """Examples read from one file, with how many entity offsets were repaired on the way and
    how many entity strings had curly quotes around their keys and values made straight."""

    path: str
    examples: tuple[Example, ...]
    repaired: int = 0
    straightened: int = 0

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def labeled(self) -> bool:
        return all(ex.label is not None for ex in self.examples)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A content hash of the examples: the same data has one fingerprint in any format."""
        return fingerprint(self.examples)


def fingerprint(examples: tuple[Example, ...] | list[Example]) -> str:
    digest = hashlib.sha256()
    for ex in examples:
        row = [ex.id, ex.sentence, _entity_row(ex.subject), _entity_row(ex.object), ex.label]
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def _entity_row(entity: Entity) -> list[object]:
    return [entity.word, entity.start, entity.end, entity.type]


# --- reading -----------------------------------------------------------------------------------


def read_dataset(
    path: str | Path, labels: LabelSet | None = None, *, with_labels: bool = True
) -> Dataset:
    """Read KLUE-RE examples from KLUE JSON (``.json``), JSONL (``.jsonl``) or competition CSV.

    ``labels`` checks every label against a label set and turns integer ids into names; with None,
    label names are kept as they are (for inferring a label set). With ``with_labels=False`` any
    label column is ignored (test files). Bad rows raise :class:`RowErrors`: up to
    ``MAX_ROW_ERRORS`` of them, each naming the file, row and field, and a count of the rest.
    """
    path = Path(path)
    rows = _read_rows(path)
    if not rows:
        raise UserError(f"{path}: no examples in the file")
    repairs = Repairs()
    errors = RowErrors(str(path))
    examples: list[tuple[int, Example]] = []
    for number, row in rows:
        try:
            example = example_from_row(path, number, row, labels, with_labels, repairs)
            examples.append((number, example))
        except UserError as exc:
            errors.add(str(exc))
    _check_unique_ids(path, examples, errors)
    errors.raise_if_any()
    return Dataset(str(path), tuple(ex for _, ex in examples), repairs.count, repairs.quotes)


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, raw record) pairs; row numbers are 1-based data rows (CSV: line - 1)."""
    text = read_text(path)
    if not text.strip():
        raise UserError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _jsonl_rows(path, text)
    if suffix == ".json":
        return _json_rows(path, text)
    if suffix in (".csv", ".tsv"):
        return csv_rows(path, text, "\t" if suffix == ".tsv" else ",")[1]
    raise UserError(f"{path}: unknown data format {suffix!r}; use .json (KLUE), .jsonl or .csv")


def _json_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: bad JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a JSON list of examples (KLUE-RE format)")
    rows = []
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise UserError(
                f"{path}: row {number}: expected a JSON object, got {type(record).__name__}"
            )
        rows.append((number, record))
    return rows


def _jsonl_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: row {line_number}: bad JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise UserError(f"{path}: row {line_number}: expected a JSON object")
        rows.append((line_number, record))
    return rows


def _check_unique_ids(path: Path, examples: list[tuple[int, Example]], errors: RowErrors) -> None:
    first_row: dict[str, int] = {}
    for number, example in examples:
        if example.id in first_row:
            first = first_row[example.id]
            errors.add(f"{path}: row {number}: id {example.id!r} repeats row {first}")
        else:
            first_row[example.id] = number

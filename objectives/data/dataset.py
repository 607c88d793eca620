"""KLUE-RE examples: typed entities and sentences, read from KLUE JSON, JSONL or competition CSV."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.cli import RowErrors, UserError
from common.files import csv_rows, read_text
from objectives.data.entity_text import clip, entity_dict
from objectives.data.labels import LabelSet


@dataclass(frozen=True)
class Entity:
    """One entity mention. ``start`` and ``end`` are character offsets, ``end`` inclusive (KLUE)."""

    word: str
    start: int
    end: int
    type: str


@dataclass(frozen=True)
class Example:
    """One relation-extraction example; ``label`` is a relation name, or None for unlabeled data."""

    id: str
    sentence: str
    subject: Entity
    object: Entity
    label: str | None = None
    source: str | None = None


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

_ID_KEYS = ("id", "guid")
_SUBJECT_KEYS = ("subject_entity", "subject")
_OBJECT_KEYS = ("object_entity", "object")
_WORD_KEYS = ("word", "text")
_TYPE_KEYS = ("type", "entity_type")
_START_KEYS = ("start_idx", "start")
_END_KEYS = ("end_idx", "end")


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
    repairs = _Counter()
    errors = RowErrors(str(path))
    examples: list[tuple[int, Example]] = []
    for number, row in rows:
        try:
            examples.append((number, _example(path, number, row, labels, with_labels, repairs)))
        except UserError as exc:
            errors.add(str(exc))
    _check_unique_ids(path, examples, errors)
    errors.raise_if_any()
    return Dataset(str(path), tuple(ex for _, ex in examples), repairs.count, repairs.quotes)


class _Counter:
    count = 0
    quotes = 0


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


def _example(
    path: Path,
    number: int,
    row: dict[str, Any],
    labels: LabelSet | None,
    with_labels: bool,
    repairs: _Counter,
) -> Example:
    where = f"{path}: row {number}"
    example_id = _first(row, _ID_KEYS)
    if example_id is None:
        example_id = row.get("_index", number - 1)
    example_id = str(example_id)
    where = f"{where} (id {example_id})"
    sentence = _first(row, ("sentence",))
    if sentence is None:
        raise UserError(f"{path}: row {number}: missing column 'sentence'")
    if not isinstance(sentence, str) or not sentence.strip():
        raise UserError(f"{where}: sentence: empty")
    subject = _entity(where, row, _SUBJECT_KEYS, sentence, repairs)
    obj = _entity(where, row, _OBJECT_KEYS, sentence, repairs)
    if _crossing(subject, obj):
        raise UserError(
            f"{where}: subject_entity {subject.start}..{subject.end} and object_entity "
            f"{obj.start}..{obj.end} overlap without one containing the other"
        )
    label = _label(where, row, labels) if with_labels else None
    source = row.get("source")
    return Example(
        example_id, sentence, subject, obj, label, None if source is None else str(source)
    )


def _crossing(a: Entity, b: Entity) -> bool:
    """Spans that share characters without one nesting in the other (no marking is possible)."""
    overlap = a.start <= b.end and b.start <= a.end
    nested = (a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)
    return overlap and not nested


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in row:
            return row[key]
    return None


def _entity(
    where: str, row: dict[str, Any], keys: tuple[str, ...], sentence: str, repairs: _Counter
) -> Entity:
    field = next((k for k in keys if k in row), None)
    if field is None:
        raise UserError(f"{where}: missing column '{keys[0]}'")
    where = f"{where}: {field}"
    raw, straightened = entity_dict(where, row[field])
    repairs.quotes += straightened
    word = _first(raw, _WORD_KEYS)
    if not isinstance(word, str) or not word:
        raise UserError(f"{where}: missing or empty 'word'")
    etype = _first(raw, _TYPE_KEYS)
    if not isinstance(etype, str) or not etype:
        raise UserError(f"{where}: missing or empty 'type'")
    start = _index(where, raw, _START_KEYS)
    end = _index(where, raw, _END_KEYS)
    if start < 0 or end >= len(sentence) or start > end:
        raise UserError(
            f"{where}: offsets {start}..{end} are outside the sentence (length {len(sentence)})"
        )
    if sentence[start : end + 1] != word:
        start, end = _repair(where, sentence, word, start, end)
        repairs.count += 1
    return Entity(word, start, end, etype)


def _index(where: str, raw: dict[str, Any], keys: tuple[str, ...]) -> int:
    value = _first(raw, keys)
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise UserError(f"{where}: '{keys[0]}' must be an integer, got {value!r}")
    return value


def _repair(where: str, sentence: str, word: str, start: int, end: int) -> tuple[int, int]:
    """Move a mismatched entity onto its word when the word occurs exactly once in the sentence."""
    found = sentence.find(word)
    if found >= 0 and sentence.find(word, found + 1) < 0:
        return found, found + len(word) - 1
    occurs = "does not occur" if found < 0 else "occurs more than once"
    raise UserError(
        f"{where}: offsets {start}..{end} give {sentence[start : end + 1]!r}, not {word!r}, "
        f"and the word {occurs} in the sentence"
    )


def _label(where: str, row: dict[str, Any], labels: LabelSet | None) -> str:
    if "label" not in row:
        raise UserError(
            f"{where}: missing column 'label' (pass the file as a test file if it has none)"
        )
    value = row["label"]
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        raise UserError(f"{where}: label: empty")
    if isinstance(value, bool):
        raise UserError(f"{where}: label: {value!r} is not a relation")
    if labels is None:
        return str(value)
    if isinstance(value, str) and value in labels:
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        number = int(value)
        if 0 <= number < len(labels):
            return labels.name(number)
        raise UserError(f"{where}: label: id {number} is outside 0..{len(labels) - 1}")
    raise UserError(f"{where}: label: {clip(str(value))!r} is not a known relation (see --labels)")


def _check_unique_ids(path: Path, examples: list[tuple[int, Example]], errors: RowErrors) -> None:
    first_row: dict[str, int] = {}
    for number, example in examples:
        if example.id in first_row:
            first = first_row[example.id]
            errors.add(f"{path}: row {number}: id {example.id!r} repeats row {first}")
        else:
            first_row[example.id] = number

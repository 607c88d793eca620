"""One raw record of a data file (a JSON object or a CSV row) checked and made an
:class:`~objectives.data.Example`: KLUE's and common alternative field names, entity
offsets repaired when the word occurs once, labels as names or integer ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common._cli import UserError
from objectives.data._entity_text import clip, entity_dict
from objectives.data._examples import Entity, Example
from objectives.data._labels import LabelSet

_ID_KEYS = ("id", "guid")
_SUBJECT_KEYS = ("subject_entity", "subject")
_OBJECT_KEYS = ("object_entity", "object")
_WORD_KEYS = ("word", "text")
_TYPE_KEYS = ("type", "entity_type")
_START_KEYS = ("start_idx", "start")
_END_KEYS = ("end_idx", "end")


class Repairs:
    """How many entity offsets were moved onto their word, and how many entity strings had
    curly quotes made straight, over the rows of one file."""

    count = 0
    quotes = 0


def example_from_row(
    path: Path,
    number: int,
    row: dict[str, Any],
    labels: LabelSet | None,
    with_labels: bool,
    repairs: Repairs,
) -> Example:
    """Row ``number`` of ``path`` as an example; a :class:`UserError` naming the file, row and
    field of the first thing wrong. ``labels`` and ``with_labels`` as in ``read_dataset``."""
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
    where: str, row: dict[str, Any], keys: tuple[str, ...], sentence: str, repairs: Repairs
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

"""Entity markers: the sentence as a relation-extraction model sees it, with both entities marked.

Schemes (``SCHEMES``), shown for subject ``조지 해리슨`` (PER) and object ``비틀즈`` (ORG):

- ``none``: the sentence unchanged; the entity starts are where the entity words start.
- ``entity``: ``[E1] 조지 해리슨 [/E1]``, ``[E2] 비틀즈 [/E2]``; E1 is always the subject.
- ``typed_punct``: ``@ * PER * 조지 해리슨 @``, ``# ^ ORG ^ 비틀즈 #`` (Zhou & Chen 2021, "typed
  entity marker (punct)"): only characters a pretrained vocabulary already has, no new tokens.
- ``typed_entity``: ``<S:PER> 조지 해리슨 </S:PER>``, ``<O:ORG> 비틀즈 </O:ORG>``.

Spacing rule, the same for every scheme: a marker is separated from the entity word by exactly one
space inside the marked span, and nothing is added outside it, so every character outside the
entities stays byte-identical: ``"조지 해리슨이"`` becomes ``"[E1] 조지 해리슨 [/E1]이"``. The
``none`` scheme adds nothing at all.

Entity types are read stripped and upper-cased. A type outside ``ENTITY_TYPES`` is written as
text by ``typed_punct`` (inner whitespace becomes ``_``, an empty type becomes ``UNK``), and turns
into the untyped role markers ``<S>``/``</S>`` and ``<O>``/``</O>`` under ``typed_entity``, since a
typed token missing from the vocabulary would be split into pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from common._cli import UserError
from objectives.data._dataset import Entity, Example

Scheme = Literal["none", "entity", "typed_punct", "typed_entity"]
SCHEMES: tuple[str, ...] = get_args(Scheme)
ENTITY_TYPES: tuple[str, ...] = ("PER", "ORG", "LOC", "DAT", "POH", "NOH")

_SUBJECT, _OBJECT = "subject", "object"
_UNKNOWN_TYPE = "UNK"


@dataclass(frozen=True)
class Marked:
    """A marked sentence.

    ``subject_start``/``object_start`` are character offsets in ``text`` where the entity's start
    marker begins (for ``none``, where the entity word begins). ``subject_span``/``object_span``
    are ``[start, end)`` character spans of the marked entity, markers included.
    """

    text: str
    subject_start: int
    object_start: int
    subject_span: tuple[int, int]
    object_span: tuple[int, int]


def check_scheme(scheme: str) -> Scheme:
    """Return ``scheme`` if it is known; raise :class:`UserError` naming the choices otherwise."""
    if scheme not in SCHEMES:
        raise UserError(f"unknown marker scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    return scheme  # type: ignore[return-value]


def special_tokens(scheme: str) -> list[str]:
    """The tokens a tokenizer must add as special tokens to read text marked with ``scheme``.

    Empty for ``none`` and ``typed_punct``; the four ``[E1]``..``[/E2]`` markers for ``entity``;
    an open and a close token per role and ``ENTITY_TYPES`` entry for ``typed_entity``, followed by
    the untyped role markers used for unknown types.
    """
    scheme = check_scheme(scheme)
    if scheme == "entity":
        return [*_entity_markers(_SUBJECT), *_entity_markers(_OBJECT)]
    if scheme == "typed_entity":
        typed = [
            token
            for entity_type in ENTITY_TYPES
            for role in (_SUBJECT, _OBJECT)
            for token in _typed_entity_markers(role, entity_type)
        ]
        untyped = [*_typed_entity_markers(_SUBJECT, None), *_typed_entity_markers(_OBJECT, None)]
        return typed + untyped
    return []


def all_special_tokens() -> list[str]:
    """The special tokens of every scheme, each once, in a stable order."""
    return list(dict.fromkeys(token for scheme in SCHEMES for token in special_tokens(scheme)))


def markers(scheme: str, role: Literal["subject", "object"], entity_type: str) -> tuple[str, str]:
    """The (open, close) markers around an entity of ``entity_type`` in ``role``; empty for none."""
    scheme = check_scheme(scheme)
    if role not in (_SUBJECT, _OBJECT):
        raise ValueError(f"role must be 'subject' or 'object', got {role!r}")
    if scheme == "entity":
        return _entity_markers(role)
    if scheme == "typed_punct":
        outer, inner = ("@", "*") if role == _SUBJECT else ("#", "^")
        return f"{outer} {inner} {_punct_type(entity_type)} {inner}", outer
    if scheme == "typed_entity":
        return _typed_entity_markers(role, _known_type(entity_type))
    return "", ""


def check_entities(sentence: str, subject: Entity, object: Entity) -> None:
    """Raise ValueError unless both entities lie on their words and are disjoint or nested.

    Crossing spans (each entity holds part of the other) have no exact marking and are refused;
    nested spans (one inside the other, or identical) are fine.
    """
    for role, entity in ((_SUBJECT, subject), (_OBJECT, object)):
        if not 0 <= entity.start <= entity.end < len(sentence):
            raise ValueError(
                f"{role} offsets {entity.start}..{entity.end} are outside the sentence "
                f"(length {len(sentence)})"
            )
        found = sentence[entity.start : entity.end + 1]
        if found != entity.word:
            raise ValueError(
                f"{role} offsets {entity.start}..{entity.end} give {found!r}, not {entity.word!r}"
            )
    first, second = sorted((subject, object), key=lambda e: (e.start, -e.end))
    if first.start < second.start <= first.end < second.end:
        raise ValueError(
            f"subject {subject.word!r} ({subject.start}..{subject.end}) and object "
            f"{object.word!r} ({object.start}..{object.end}) overlap without one containing "
            "the other; they cannot be marked"
        )


def mark(sentence: str, subject: Entity, object: Entity, scheme: str) -> Marked:
    """Insert the markers of ``scheme`` around the subject and the object of ``sentence``.

    Entities may come in either order, be adjacent, or touch either end of the sentence. Nested
    entities are marked exactly, the outer one's markers outside the inner one's (for identical
    spans the subject is outer). Crossing or out-of-range spans, and offsets that do not give the
    entity's word, raise ValueError. An unknown scheme raises :class:`UserError`.
    """
    scheme = check_scheme(scheme)
    check_entities(sentence, subject, object)
    edits = sorted(_edits(scheme, _SUBJECT, subject) + _edits(scheme, _OBJECT, object))
    pieces: list[str] = []
    where: dict[tuple[str, int], int] = {}
    length = consumed = 0
    for position, _, _, role, is_open, text in edits:
        pieces.append(sentence[consumed:position])
        length += position - consumed
        consumed = position
        where[(role, is_open)] = length if is_open else length + len(text)
        pieces.append(text)
        length += len(text)
    pieces.append(sentence[consumed:])
    return Marked(
        text="".join(pieces),
        subject_start=where[(_SUBJECT, 1)],
        object_start=where[(_OBJECT, 1)],
        subject_span=(where[(_SUBJECT, 1)], where[(_SUBJECT, 0)]),
        object_span=(where[(_OBJECT, 1)], where[(_OBJECT, 0)]),
    )


def mark_example(example: Example, scheme: str) -> Marked:
    """:func:`mark` applied to an example's sentence, subject and object."""
    return mark(example.sentence, example.subject, example.object, scheme)


def char_to_token(
    offsets: Sequence[tuple[int, int]],
    char: int,
    *,
    sequence_ids: Sequence[int | None] | None = None,
    sequence: int = 0,
) -> int | None:
    """The index of the token covering character ``char``, or None if it was truncated away.

    ``offsets`` is a fast tokenizer's ``offset_mapping``; empty spans such as the ``(0, 0)`` of
    special tokens are skipped. A character between tokens (a space the tokenizer dropped) maps to
    the next token. When the text is the pair member of a pair encoding, pass the encoding's
    ``sequence_ids`` and the member's index as ``sequence``: offsets restart at 0 in each member.
    """
    for index, (start, end) in enumerate(offsets):
        if end <= start:
            continue
        if sequence_ids is not None and sequence_ids[index] != sequence:
            continue
        if char < end:
            return index
    return None


_Edit = tuple[int, int, tuple[int, int], str, int, str]


def _edits(scheme: Scheme, role: str, entity: Entity) -> list[_Edit]:
    """The open and close insertions of one entity as sortable tuples.

    Sort key: position, then closes before opens (so adjacent entities stay in text order), then
    for opens the outer (longer) span first and for closes the inner span first, which nests the
    markers; identical spans put the subject outside.
    """
    opening, closing = markers(scheme, role, entity.type)  # type: ignore[arg-type]
    spaced_open = f"{opening} " if opening else ""
    spaced_close = f" {closing}" if closing else ""
    is_subject = role == _SUBJECT
    return [
        (entity.start, 1, (-entity.end, 0 if is_subject else 1), role, 1, spaced_open),
        (entity.end + 1, 0, (-entity.start, 1 if is_subject else 0), role, 0, spaced_close),
    ]


def _entity_markers(role: str) -> tuple[str, str]:
    number = 1 if role == _SUBJECT else 2
    return f"[E{number}]", f"[/E{number}]"


def _typed_entity_markers(role: str, entity_type: str | None) -> tuple[str, str]:
    letter = "S" if role == _SUBJECT else "O"
    tag = f"{letter}:{entity_type}" if entity_type else letter
    return f"<{tag}>", f"</{tag}>"


def _known_type(entity_type: str) -> str | None:
    normal = entity_type.strip().upper()
    return normal if normal in ENTITY_TYPES else None


def _punct_type(entity_type: str) -> str:
    return "_".join(entity_type.upper().split()) or _UNKNOWN_TYPE

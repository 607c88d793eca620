"""A KLUE-RE example: a sentence, its typed subject and object entities, and its relation."""

from __future__ import annotations

from dataclasses import dataclass


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

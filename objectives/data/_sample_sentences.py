"""Sentences for the built-in sample data: one example of a given label, with how it was made.

A relation's example fills one of its templates with fresh entity words of the right kinds; a
negative is a hard one (the same cue words relating a third entity, or subject and object from
two different clauses) or a predicate that is no KLUE relation, with entity types drawn by
KLUE's shares. Distractor clauses go around it, and the clauses are joined into one text with
the entity offsets recorded as the pieces are joined, never searched for.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from objectives.data import _sample_templates as content
from objectives.data._dataset import Entity
from objectives.data._labels import NO_RELATION

# How an example was made (GeneratedExample.kind).
# How an example was made (GeneratedExample.kind).
POSITIVE = "positive"
CROSS_PAIR = "cross_pair"  # hard negative: subject and object come from two different clauses
TRAP = "trap"  # hard negative: the cue words relate a third entity
NEUTRAL = "neutral"  # negative: a predicate that is no KLUE relation

_NEGATIVE_MODES = ((CROSS_PAIR, 0.4), (TRAP, 0.3), (NEUTRAL, 0.3))
_SIBLING_RATE = 0.35  # positives and negatives alike get a same-typed second clause this often


# --- entity words -----------------------------------------------------------------------------


def _fresh(kind: str, rng: random.Random, used: set[str]) -> str:
    """A word of ``kind`` not yet used in this sentence, so that no pair is related by accident."""
    word = content.POOLS[kind](rng)
    for _ in range(100):
        if word not in used:
            break
        word = content.POOLS[kind](rng)
    used.add(word)
    return word


def _fresh_pair(s_kind: str, o_kind: str, rng: random.Random, used: set[str]) -> dict[str, str]:
    if o_kind == "alias":
        for _ in range(100):
            name, alias = content.aliased(rng)
            if name not in used and alias not in used:
                break
        used.update((name, alias))
        return {"S": name, "O": alias}
    return {"S": _fresh(s_kind, rng, used), "O": _fresh(o_kind, rng, used)}


# --- clauses and sentences ----------------------------------------------------------------------

_SLOT = re.compile(r"\{(~|[A-Z]+)([가-힣]*)\}")


@dataclass(frozen=True)
class _Clause:
    text: str
    spans: dict[str, tuple[int, int]]  # "S"/"O" -> (start, end inclusive) within text


def _render(template: str, bound: Mapping[str, str], rng: random.Random, used: set[str]) -> _Clause:
    """Fill a template; offsets are recorded as the pieces are joined, never searched for."""
    text, spans, pos = "", {}, 0
    for match in _SLOT.finditer(template):
        text += template[pos : match.start()]
        name, key = match.groups()
        if name in ("S", "O"):
            word = bound[name]
            spans[name] = (len(text), len(text) + len(word) - 1)
            text += word
        elif name != "~":
            kind = content.FILLER_KINDS[name]
            text += content.POOLS[kind](rng) if kind == "kin" else _fresh(kind, rng, used)
        if key:
            text += content.josa(text, key)
        pos = match.end()
    return _Clause(text + template[pos:], spans)


def _filled(template: content.Template, rng: random.Random, used: set[str]) -> _Clause:
    """A template with fresh subject and object words: the clause marks nothing."""
    s_kind, o_kind, text = template
    return _render(text, _fresh_pair(s_kind, o_kind, rng, used), rng, used)


def _signature(template: content.Template) -> tuple[str, str]:
    return content.KIND_TYPES[template[0]], content.KIND_TYPES[template[1]]


def _by_signature(templates: list[content.Template]) -> dict[tuple[str, str], list]:
    index: dict[tuple[str, str], list[content.Template]] = {}
    for template in templates:
        index.setdefault(_signature(template), []).append(template)
    return index


_RELATION_LIST = [t for ts in content.RELATION_TEMPLATES.values() for t in ts]
_ALL_TEMPLATES = _RELATION_LIST + list(content.NEUTRAL_TEMPLATES) + list(content.TRAP_TEMPLATES)
_SAME_TYPES = _by_signature(_ALL_TEMPLATES)
_NEGATIVE_POOLS = {
    NEUTRAL: _by_signature(list(content.NEUTRAL_TEMPLATES)),
    TRAP: _by_signature(list(content.TRAP_TEMPLATES)),
}
_RELATIONS = list(content.KLUE_COUNTS)
_RELATION_WEIGHTS = list(content.KLUE_COUNTS.values())


@dataclass(frozen=True)
class _Core:
    clauses: list[_Clause]
    s_at: int  # index of the clause holding the marked subject
    o_at: int
    types: tuple[str, str]
    kind: str


def _with_sibling(core: _Core, rng: random.Random, used: set[str]) -> _Core:
    if rng.random() >= _SIBLING_RATE:
        return core
    sibling = _filled(rng.choice(_SAME_TYPES[core.types]), rng, used)
    if rng.random() < 0.5:
        return replace(core, clauses=[*core.clauses, sibling])
    return replace(core, clauses=[sibling, *core.clauses], s_at=core.s_at + 1, o_at=core.o_at + 1)


def _positive_core(relation: str, rng: random.Random, used: set[str]) -> _Core:
    template = rng.choice(content.RELATION_TEMPLATES[relation])
    clause = _render(template[2], _fresh_pair(*template[:2], rng, used), rng, used)
    return _with_sibling(_Core([clause], 0, 0, _signature(template), POSITIVE), rng, used)


def _negative_core(rng: random.Random, used: set[str]) -> _Core:
    # Negatives take their entity types from a relation drawn by KLUE's shares, so that the
    # type pair alone does not tell a relation from no_relation.
    relation = rng.choices(_RELATIONS, weights=_RELATION_WEIGHTS)[0]
    first = rng.choice(content.RELATION_TEMPLATES[relation])
    types = _signature(first)
    mode = rng.choices([m for m, _ in _NEGATIVE_MODES], weights=[w for _, w in _NEGATIVE_MODES])[0]
    pool = _NEGATIVE_POOLS.get(mode, {}).get(types)
    if pool:
        template = rng.choice(pool)
        clause = _render(template[2], _fresh_pair(*template[:2], rng, used), rng, used)
        return _with_sibling(_Core([clause], 0, 0, types, mode), rng, used)
    same = content.RELATION_TEMPLATES[relation]
    second = rng.choice(same if rng.random() < 0.6 else _SAME_TYPES[types])
    clauses = [_filled(first, rng, used), _filled(second, rng, used)]
    s_at = rng.randrange(2)
    return _Core(clauses, s_at, 1 - s_at, types, CROSS_PAIR)


def _distractor(rng: random.Random, used: set[str]) -> _Clause:
    if rng.random() < 0.5:
        return _render(rng.choice(content.BACKGROUND), {}, rng, used)
    return _filled(rng.choice(_ALL_TEMPLATES), rng, used)


def _surround(core: _Core, rng: random.Random, used: set[str]) -> tuple[list[_Clause], int]:
    """Distractor clauses around the core; returns all clauses and where the core starts.

    Most sentences stay short; 30% get one to three clauses, and 15% get 180-520 characters of
    context, mostly before the core, so that a short max_len cuts the marked entities off.
    """
    before: list[_Clause] = []
    after: list[_Clause] = []
    size = rng.random()
    if size < 0.85:
        extra = (1 if rng.random() < 0.25 else 0) if size < 0.55 else rng.randint(1, 3)
        for _ in range(extra):
            (before if rng.random() < 0.65 else after).append(_distractor(rng, used))
    else:
        side = before if rng.random() < 0.7 else after
        target = rng.randint(180, 520)
        while sum(len(c.text) + 1 for c in side) < target:
            side.append(_distractor(rng, used))
    return [*before, *core.clauses, *after], len(before)


def _assemble(clauses: list[_Clause], rng: random.Random) -> tuple[str, list[int]]:
    """Join clauses into one text, as separate sentences or with a connective ending."""
    text, starts, connector = "", [], ""
    for i, clause in enumerate(clauses):
        body, next_connector = clause.text, ""
        if i + 1 < len(clauses):
            if rng.random() < 0.4 and body.endswith("다."):
                body = body[:-2] + "고,"  # every template ends in a -다 that takes -고
            else:
                next_connector = rng.choice(content.CONNECTORS)
        if i:
            text += " " + connector
        starts.append(len(text))
        text += body
        connector = next_connector
    return text, starts


def example(label: str, rng: random.Random) -> tuple[str, Entity, Entity, str]:
    """A sentence for ``label``, its subject and object entities, and how it was made."""
    used: set[str] = set()
    core = _negative_core(rng, used) if label == NO_RELATION else _positive_core(label, rng, used)
    clauses, first = _surround(core, rng, used)
    text, starts = _assemble(clauses, rng)
    entities = []
    for role, at, type_ in (("S", core.s_at, core.types[0]), ("O", core.o_at, core.types[1])):
        start, end = core.clauses[at].spans[role]
        offset = starts[first + at]
        entities.append(
            Entity(text[offset + start : offset + end + 1], offset + start, offset + end, type_)
        )
    return text, entities[0], entities[1], core.kind

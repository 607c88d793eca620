"""The label set: names, ids, and which label means "no relation"."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common._cli import UserError
from common._files import read_text

# KLUE-RE's relation_list.json, in its official order: the id of a relation is its index here.
KLUE_RELATIONS: tuple[str, ...] = (
    "no_relation",
    "org:dissolved",
    "org:founded",
    "org:place_of_headquarters",
    "org:alternate_names",
    "org:member_of",
    "org:members",
    "org:political/religious_affiliation",
    "org:product",
    "org:founded_by",
    "org:top_members/employees",
    "org:number_of_employees/members",
    "per:date_of_birth",
    "per:date_of_death",
    "per:place_of_birth",
    "per:place_of_death",
    "per:place_of_residence",
    "per:origin",
    "per:employee_of",
    "per:schools_attended",
    "per:alternate_names",
    "per:parents",
    "per:children",
    "per:siblings",
    "per:spouse",
    "per:other_family",
    "per:colleagues",
    "per:product",
    "per:religion",
    "per:title",
)

NO_RELATION = "no_relation"


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of relation names; a label's id is its position.

    ``no_relation`` names the label that the micro-F1 leaves out.
    """

    names: tuple[str, ...] = KLUE_RELATIONS
    no_relation: str = NO_RELATION
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.names:
            raise UserError("label set: no labels")
        seen: set[str] = set()
        for name in self.names:
            if not isinstance(name, str) or not name.strip():
                raise UserError(f"label set: label {name!r} is not a non-empty string")
            if name in seen:
                raise UserError(f"label set: label {name!r} appears twice")
            seen.add(name)
        if self.no_relation not in seen:
            raise UserError(
                f"label set: the no-relation label {self.no_relation!r} is not among the labels; "
                + suggest_no_relation(dict.fromkeys(self.names, 1))
            )
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(self.names)})

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def id(self, name: str) -> int:
        """The id of ``name``; KeyError if it is not a label."""
        return self._index[name]

    def name(self, label_id: int) -> str:
        return self.names[label_id]

    @property
    def no_relation_id(self) -> int:
        return self.id(self.no_relation)

    @property
    def relation_ids(self) -> list[int]:
        """Every label id except the no-relation one: the labels micro-F1 is computed over."""
        skip = self.no_relation_id
        return [i for i in range(len(self.names)) if i != skip]

    def to_json(self) -> dict[str, object]:
        return {"names": list(self.names), "no_relation": self.no_relation}


def klue_labels(no_relation: str = NO_RELATION) -> LabelSet:
    """The 30 KLUE relations in their official order."""
    return LabelSet(KLUE_RELATIONS, no_relation)


def read_label_file(path: str | Path, no_relation: str = NO_RELATION) -> LabelSet:
    """Read a relation list.

    Accepted: a JSON list of names; a JSON object ``{"relations": [...]}`` (KLUE's
    relation_list.json); a JSON object mapping names to ids (``dict_label_to_num``); or plain
    text with one name per line.
    """
    path = Path(path)
    text = read_text(path, "relation list file")
    names = _parse_label_text(path, text)
    if not names:
        raise UserError(f"{path}: relation list is empty")
    return LabelSet(tuple(names), no_relation)


def _parse_label_text(path: Path, text: str) -> list[str]:
    stripped = text.strip()
    if not stripped.startswith(("[", "{")):
        return [line.strip() for line in stripped.splitlines() if line.strip()]
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: bad JSON at line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, dict) and "relations" in data:
        data = data["relations"]
    if isinstance(data, list):
        return [str(name) for name in data]
    if isinstance(data, dict):
        try:
            order = sorted(data.items(), key=lambda item: int(item[1]))
        except (TypeError, ValueError):
            raise UserError(f"{path}: a name-to-id mapping needs integer ids") from None
        ids = [int(i) for _, i in order]
        if ids != list(range(len(ids))):
            raise UserError(f"{path}: label ids must be 0..{len(ids) - 1} without gaps")
        return [str(name) for name, _ in order]
    raise UserError(f"{path}: expected a list of relation names")


def infer_labels(observed: Iterable[str], no_relation: str = NO_RELATION) -> LabelSet:
    """A label set from the labels seen in training data.

    Where every observed label is a KLUE relation, the KLUE order is kept (so ids match KLUE);
    otherwise the no-relation label comes first and the rest are sorted.
    """
    seen = set(observed)
    if seen <= set(KLUE_RELATIONS) and no_relation == NO_RELATION:
        return klue_labels()
    rest = sorted(seen - {no_relation})
    return LabelSet((no_relation, *rest), no_relation)


# Words that name "no relation" in the label sets people use; strong ones first.
_STRONG_HINTS = ("no", "none", "nil", "null", "norel", "norelation", "unrelated")
_WEAK_HINTS = ("other", "na", "irrelevant")
_KOREAN_STRONG = ("없음", "무관")
_KOREAN_WEAK = ("관계",)


def no_relation_candidate(counts: Mapping[str, int]) -> str | None:
    """The label most likely to mean "no relation": one named like it ("no", "none", "other",
    "없음", "관계"), preferring strong hints, then names without a ``per:``/``org:`` prefix, then
    the most frequent."""
    scored = []
    for name, count in counts.items():
        hint = _hint_strength(name)
        if hint == 2 or (hint == 1 and ":" not in name):  # not per:other_family
            scored.append((hint, ":" not in name, count, name))
    return max(scored)[3] if scored else None


def _hint_strength(name: str) -> int:
    tokens = set(re.split(r"[^0-9a-z]+", name.lower()))
    if tokens & set(_STRONG_HINTS) or any(h in name for h in _KOREAN_STRONG):
        return 2
    if tokens & set(_WEAK_HINTS) or any(h in name for h in _KOREAN_WEAK):
        return 1
    return 0


def suggest_no_relation(counts: Mapping[str, int]) -> str:
    """The advice part of an error about the no-relation label: which flag, with which name."""
    candidate = no_relation_candidate(counts)
    if candidate is None:
        return "pass --no-relation NAME with the label your data uses for no relation"
    return f"pass --no-relation {candidate} if that is the label your data uses for no relation"


def check_no_relation(labels: Iterable[str | None], no_relation: str, source: str) -> None:
    """Stop when the no-relation label occurs in none of ``labels``: its absence would score the
    data's real no-relation label as a relation, and micro-F1 and AUPRC would be wrong."""
    counts = Counter(label for label in labels if label is not None)
    if not counts or counts[no_relation] > 0:
        return
    top = ", ".join(f"{name} ({n})" for name, n in counts.most_common(5))
    raise UserError(
        f"{source}: the no-relation label {no_relation!r} occurs in none of the examples "
        f"(most frequent labels: {top}); {suggest_no_relation(counts)}"
    )

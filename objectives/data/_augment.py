"""Training-data augmentation for relation extraction: pure functions over examples.

Three kinds, each off by default and each a probability a search can vary:

- **entity swap**: the subject, the object or both are replaced by another mention of the same
  entity type seen in the training set; the relation label is kept (a relation between a person
  and an organization rarely depends on which person or which organization it is);
- **AEDA** (Karimi et al. 2021, "AEDA: An Easier Data Augmentation Technique for Text
  Classification"): punctuation marks inserted at random word boundaries, between one and a third
  of the sentence's word count, never inside an entity;
- **marker-token dropout**: an example is tokenized without entity markers (the plain sentence),
  so the model does not lean on the markers alone.

Swap and AEDA make new examples (copies with ``:swap`` / ``:aeda`` appended to the id) that are
*added* to the training set, as the competition did: the original examples are all kept, so an
augmentation can only add variety, never remove signal. Marker dropout does not copy: it picks
which examples of the (augmented) training set are tokenized unmarked.

Everything is drawn once per run from ``random.Random`` seeded with the run's seed and the
augmentation's name, so a run is reproducible and switching one augmentation on does not change
what another draws. Only training data is augmented; dev and test never pass through here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from objectives.data._dataset import Dataset, Entity, Example

PUNCTUATION: tuple[str, ...] = (". ", ", ", "! ", "? ", "; ", ": ")
ROLES = ("subject", "object")

MentionPool = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Augmented:
    """The training set a run trains on and which of its examples are tokenized unmarked."""

    dataset: Dataset
    unmarked: tuple[bool, ...]
    added: dict[str, int]  # new examples per augmentation, for the run record


def mention_pool(examples: Iterable[Example]) -> dict[str, tuple[str, ...]]:
    """Every distinct subject and object mention, by entity type, in a stable (sorted) order."""
    pool: dict[str, set[str]] = {}
    for ex in examples:
        for entity in (ex.subject, ex.object):
            pool.setdefault(entity.type, set()).add(entity.word)
    return {etype: tuple(sorted(words)) for etype, words in sorted(pool.items())}


def entity_swap(example: Example, pool: MentionPool, rng: random.Random) -> Example | None:
    """A copy of ``example`` whose subject, object or both are other mentions of the same type.

    None when nothing can be swapped: the entities overlap (replacing one would cut the other),
    or the pool holds no other mention of either type.
    """
    if _overlap(example.subject, example.object):
        return None
    roles = [role for role in ROLES if _has_other(pool, _entity(example, role))]
    if not roles:
        return None
    if len(roles) == 2:
        roles = rng.choice((["subject"], ["object"], roles))
    new = {role: _other(pool, _entity(example, role), rng) for role in roles}
    return replace_mentions(example, new, suffix=":swap")


def replace_mentions(example: Example, words: Mapping[str, str], suffix: str = "") -> Example:
    """``example`` with the mention of each role in ``words`` replaced by that word, offsets fixed.

    The entities must not overlap. The rightmost entity is replaced first, so the other one's
    offsets move only when it lies to the right of a replaced mention.
    """
    sentence = example.sentence
    entities = {role: _entity(example, role) for role in ROLES}
    for role in sorted(words, key=lambda r: entities[r].start, reverse=True):
        old, word = entities[role], words[role]
        sentence = sentence[: old.start] + word + sentence[old.end + 1 :]
        shift = len(word) - len(old.word)
        entities[role] = Entity(word, old.start, old.start + len(word) - 1, old.type)
        for other in ROLES:
            e = entities[other]
            if other != role and e.start > old.end:
                entities[other] = Entity(e.word, e.start + shift, e.end + shift, e.type)
    return replace(
        example,
        id=example.id + suffix,
        sentence=sentence,
        subject=entities["subject"],
        object=entities["object"],
    )


def aeda(example: Example, rng: random.Random) -> Example:
    """A copy with 1 to a third of the word count of punctuation marks (``PUNCTUATION``) inserted
    before randomly chosen words, never inside an entity; entity offsets move with the text."""
    sentence = example.sentence
    spans = [(e.start, e.end) for e in (example.subject, example.object)]
    starts = word_starts(sentence)
    allowed = [p for p in starts if not any(s < p <= e for s, e in spans)]
    count = rng.randint(1, max(1, len(starts) // 3))
    at = sorted(rng.sample(allowed, min(count, len(allowed))))
    inserts = [(p, rng.choice(PUNCTUATION)) for p in at]
    pieces, consumed = [], 0
    for position, mark in inserts:
        pieces += [sentence[consumed:position], mark]
        consumed = position
    pieces.append(sentence[consumed:])

    def moved(entity: Entity) -> Entity:
        shift = sum(len(mark) for position, mark in inserts if position <= entity.start)
        return Entity(entity.word, entity.start + shift, entity.end + shift, entity.type)

    return replace(
        example,
        id=example.id + ":aeda",
        sentence="".join(pieces),
        subject=moved(example.subject),
        object=moved(example.object),
    )


def word_starts(sentence: str) -> list[int]:
    """Character offsets where a whitespace-separated word begins."""
    return [
        i
        for i, ch in enumerate(sentence)
        if not ch.isspace() and (i == 0 or sentence[i - 1].isspace())
    ]


def marker_dropout(count: int, probability: float, rng: random.Random) -> tuple[bool, ...]:
    """For each of ``count`` examples, whether it is tokenized without entity markers."""
    if probability <= 0:
        return (False,) * count
    return tuple(rng.random() < probability for _ in range(count))


def augment_train(
    train: Dataset,
    *,
    entity_swap_p: float = 0.0,
    aeda_p: float = 0.0,
    marker_dropout_p: float = 0.0,
    seed: int = 0,
) -> Augmented:
    """The training set with augmented copies added, and the marker-dropout choice per example.

    Each original example gets a swapped copy with probability ``entity_swap_p`` (when a swap is
    possible) and, independently, an AEDA copy with probability ``aeda_p``. Marker dropout then
    applies to every example, originals and copies alike, with probability ``marker_dropout_p``.
    """
    originals = train.examples
    swap_rng, aeda_rng, drop_rng = (random.Random(f"{seed}:{name}") for name in _STREAMS)
    added: dict[str, int] = {"entity_swap": 0, "aeda": 0}
    copies: list[Example] = []
    if entity_swap_p > 0:
        pool = mention_pool(originals)
        for ex in originals:
            if swap_rng.random() < entity_swap_p and (new := entity_swap(ex, pool, swap_rng)):
                copies.append(new)
                added["entity_swap"] += 1
    if aeda_p > 0:
        for ex in originals:
            if aeda_rng.random() < aeda_p:
                copies.append(aeda(ex, aeda_rng))
                added["aeda"] += 1
    examples = (*originals, *copies)
    unmarked = marker_dropout(len(examples), marker_dropout_p, drop_rng)
    added["marker_dropout"] = sum(unmarked)
    dataset = Dataset(f"{train.path} (augmented)", examples, train.repaired) if copies else train
    return Augmented(dataset, unmarked, added)


_STREAMS = ("entity_swap", "aeda", "marker_dropout")


def _entity(example: Example, role: str) -> Entity:
    return example.subject if role == "subject" else example.object


def _has_other(pool: MentionPool, entity: Entity) -> bool:
    words = pool.get(entity.type, ())
    return len(words) > 1 or (len(words) == 1 and words[0] != entity.word)


def _other(pool: MentionPool, entity: Entity, rng: random.Random) -> str:
    """A uniform draw among the type's other mentions (redrawn on a hit of the entity's own word:
    cheaper than building the list without it for every example)."""
    words = pool[entity.type]
    while True:
        word = rng.choice(words)
        if word != entity.word:
            return word


def _overlap(a: Entity, b: Entity) -> bool:
    return a.start <= b.end and b.start <= a.end

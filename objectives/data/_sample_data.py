"""The built-in sample data set: a KLUE-RE-like Korean corpus, generated, so nothing is downloaded.

``python -m objectives.sample --out DIR`` writes ``train/dev/test`` as KLUE JSON and as the
competition's CSV. :func:`generate` is the pure generator (its sentences come from
:mod:`objectives.data._sample_sentences`); :func:`ensure_sample_data` caches the default files once
per seed, written by :mod:`objectives.data._writing`.

What makes it a useful stand-in for KLUE-RE: the 30 relations with KLUE's imbalance (no_relation
near a third, a long tail under 1%); entity types that fit each relation; several word orders per
relation; hard negatives (the same cue words, but relating a third entity, or the marked entities
taken from two different clauses) so that a model must look at which entities are marked;
distractor clauses; sentence lengths from 20 to 600 characters, so that truncation at 64, 128 or
256 tokens changes what the model sees; and ~3% flipped labels in train only.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from common import _paths as paths
from common._cli import UserError
from objectives.data import _sample_sentences as sample_sentences
from objectives.data import _sample_templates as content
from objectives.data._dataset import Example
from objectives.data._labels import KLUE_RELATIONS, NO_RELATION
from objectives.data._writing import write_sample

VERSION = "v1"
DEFAULT_SEED = 13
SPLITS = ("train", "dev", "test")
DEFAULT_SIZES: Mapping[str, int] = {"train": 2400, "dev": 600, "test": 600}
LABEL_NOISE = 0.03
SAMPLE_FILES = tuple(f"{split}.{ext}" for split in SPLITS for ext in ("json", "csv"))


@dataclass(frozen=True)
class GeneratedExample:
    """A generated example, with how it was made (a kind of
    :mod:`objectives.data._sample_sentences`) and its label before any noise was added."""

    example: Example
    kind: str
    clean_label: str


def label_counts(n: int, minimum: int = 0) -> dict[str, int]:
    """How many of ``n`` examples carry each label: KLUE's shares, each relation >= ``minimum``."""
    rel_total = sum(content.KLUE_COUNTS.values())
    relation_share = 1.0 - content.NO_RELATION_SHARE
    shares = {NO_RELATION: content.NO_RELATION_SHARE}
    shares |= {r: relation_share * c / rel_total for r, c in content.KLUE_COUNTS.items()}
    exact = {label: n * shares[label] for label in KLUE_RELATIONS}
    counts = {label: int(exact[label]) for label in KLUE_RELATIONS}
    by_remainder = sorted(KLUE_RELATIONS, key=lambda label: counts[label] - exact[label])
    for label in by_remainder[: n - sum(counts.values())]:
        counts[label] += 1
    for label in content.KLUE_COUNTS:
        while counts[label] < minimum:
            donor = max(content.KLUE_COUNTS, key=counts.__getitem__)
            if counts[donor] <= minimum:
                break
            counts[donor] -= 1
            counts[label] += 1
    return counts


def _split(split: str, n: int, seed: int, seen: set[str]) -> list[GeneratedExample]:
    rng = random.Random(f"re-search-sample/{VERSION}/{seed}/{split}")
    counts = label_counts(n, minimum=min(6, n // 200))
    labels = [label for label in KLUE_RELATIONS for _ in range(counts[label])]
    rng.shuffle(labels)
    sources = [name for name, _ in content.SOURCES]
    weights = [weight for _, weight in content.SOURCES]
    records = []
    for i, label in enumerate(labels):
        for _ in range(100):  # a sentence seen before (in any split) is drawn again
            sentence, subject, object_, kind = sample_sentences.example(label, rng)
            if sentence not in seen:
                break
        seen.add(sentence)
        source = rng.choices(sources, weights=weights)[0]
        example = Example(
            f"sample-{VERSION}-{split}-{i:05d}", sentence, subject, object_, label, source
        )
        records.append(GeneratedExample(example, kind, label))
    return records


def _add_noise(records: list[GeneratedExample], rate: float, seed: int) -> list[GeneratedExample]:
    """Flip ``rate`` of the labels to another label, drawn uniformly."""
    rng = random.Random(f"re-search-sample/{VERSION}/{seed}/noise")
    flipped = list(records)
    for i in sorted(rng.sample(range(len(records)), round(len(records) * rate))):
        record = records[i]
        label = rng.choice([name for name in KLUE_RELATIONS if name != record.clean_label])
        flipped[i] = replace(record, example=replace(record.example, label=label))
    return flipped


def generate_detailed(
    seed: int = DEFAULT_SEED,
    sizes: Mapping[str, int] | None = None,
    *,
    noise: float = LABEL_NOISE,
) -> dict[str, list[GeneratedExample]]:
    """The sample splits with provenance. ``sizes`` overrides some of :data:`DEFAULT_SIZES`.

    Deterministic in ``seed``; label noise touches the train split only.
    """
    sizes = {**DEFAULT_SIZES, **(sizes or {})}
    unknown = set(sizes) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}; expected {SPLITS}")
    if any(not isinstance(n, int) or n < 0 for n in sizes.values()):
        raise ValueError(f"split sizes must be non-negative integers, got {sizes}")
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"noise must be in [0, 1), got {noise}")
    seen: set[str] = set()
    splits = {split: _split(split, sizes[split], seed, seen) for split in SPLITS}
    splits["train"] = _add_noise(splits["train"], noise, seed)
    return splits


def generate(
    seed: int = DEFAULT_SEED,
    sizes: Mapping[str, int] | None = None,
    *,
    noise: float = LABEL_NOISE,
) -> dict[str, list[Example]]:
    """The sample splits ``train``, ``dev``, ``test`` as examples (pure; see generate_detailed)."""
    records = generate_detailed(seed, sizes, noise=noise)
    return {split: [record.example for record in rows] for split, rows in records.items()}


def _complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in SAMPLE_FILES)


def ensure_sample_data(root: Path | None = None, seed: int = DEFAULT_SEED) -> Path:
    """The directory holding the default sample files for ``seed``, generated on first use.

    Files are written to a temporary directory beside the target and renamed into place, so a
    reader never sees half a data set; when another process wins the race, its copy is used.
    """
    root = Path(root) if root is not None else paths.cache_root()
    target = root / f"sample-{seed}-{VERSION}"
    if _complete(target):
        return target
    if target.exists():
        raise UserError(f"{target}: incomplete sample data directory; delete it and run again")
    with paths.atomic_directory(target, _complete) as scratch:
        write_sample(scratch, generate(seed))
    return target

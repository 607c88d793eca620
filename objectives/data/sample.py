"""The built-in sample data set: a KLUE-RE-like Korean corpus, generated, so nothing is downloaded.

``python -m objectives.sample --out DIR`` writes ``train/dev/test`` as KLUE JSON and as the
competition's CSV. :func:`generate` is the pure generator; :func:`ensure_sample_data` caches the
default files once per seed.

What makes it a useful stand-in for KLUE-RE: the 30 relations with KLUE's imbalance (no_relation
near a third, a long tail under 1%); entity types that fit each relation; several word orders per
relation; hard negatives (the same cue words, but relating a third entity, or the marked entities
taken from two different clauses) so that a model must look at which entities are marked;
distractor clauses; sentence lengths from 20 to 600 characters, so that truncation at 64, 128 or
256 tokens changes what the model sees; and ~3% flipped labels in train only.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from common import paths
from common.cli import UserError, run_main
from objectives.data import sample_templates as content
from objectives.data.dataset import Entity, Example
from objectives.data.labels import KLUE_RELATIONS, NO_RELATION

VERSION = "v1"
DEFAULT_SEED = 13
SPLITS = ("train", "dev", "test")
DEFAULT_SIZES: Mapping[str, int] = {"train": 2400, "dev": 600, "test": 600}
LABEL_NOISE = 0.03
SAMPLE_FILES = tuple(f"{split}.{ext}" for split in SPLITS for ext in ("json", "csv"))

# How an example was made (SampleRecord.kind).
POSITIVE = "positive"
CROSS_PAIR = "cross_pair"  # hard negative: subject and object come from two different clauses
TRAP = "trap"  # hard negative: the cue words relate a third entity
NEUTRAL = "neutral"  # negative: a predicate that is no KLUE relation

_NEGATIVE_MODES = ((CROSS_PAIR, 0.4), (TRAP, 0.3), (NEUTRAL, 0.3))
_SIBLING_RATE = 0.35  # positives and negatives alike get a same-typed second clause this often


@dataclass(frozen=True)
class SampleRecord:
    """A generated example, with how it was made and its label before any noise was added."""

    example: Example
    kind: str
    clean_label: str


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


def _example(label: str, rng: random.Random) -> tuple[str, Entity, Entity, str]:
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


# --- splits -------------------------------------------------------------------------------------


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
    for label in _RELATIONS:
        while counts[label] < minimum:
            donor = max(_RELATIONS, key=counts.__getitem__)
            if counts[donor] <= minimum:
                break
            counts[donor] -= 1
            counts[label] += 1
    return counts


def _split(split: str, n: int, seed: int, seen: set[str]) -> list[SampleRecord]:
    rng = random.Random(f"re-search-sample/{VERSION}/{seed}/{split}")
    counts = label_counts(n, minimum=min(6, n // 200))
    labels = [label for label in KLUE_RELATIONS for _ in range(counts[label])]
    rng.shuffle(labels)
    sources = [name for name, _ in content.SOURCES]
    weights = [weight for _, weight in content.SOURCES]
    records = []
    for i, label in enumerate(labels):
        for _ in range(100):  # a sentence seen before (in any split) is drawn again
            sentence, subject, object_, kind = _example(label, rng)
            if sentence not in seen:
                break
        seen.add(sentence)
        source = rng.choices(sources, weights=weights)[0]
        example = Example(
            f"sample-{VERSION}-{split}-{i:05d}", sentence, subject, object_, label, source
        )
        records.append(SampleRecord(example, kind, label))
    return records


def _add_noise(records: list[SampleRecord], rate: float, seed: int) -> list[SampleRecord]:
    """Flip ``rate`` of the labels to another label, drawn uniformly."""
    rng = random.Random(f"re-search-sample/{VERSION}/{seed}/noise")
    flipped = list(records)
    for i in sorted(rng.sample(range(len(records)), round(len(records) * rate))):
        record = records[i]
        label = rng.choice([name for name in KLUE_RELATIONS if name != record.clean_label])
        flipped[i] = replace(record, example=replace(record.example, label=label))
    return flipped


def generate_records(
    seed: int = DEFAULT_SEED,
    sizes: Mapping[str, int] | None = None,
    *,
    noise: float = LABEL_NOISE,
) -> dict[str, list[SampleRecord]]:
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
    """The sample splits ``train``, ``dev``, ``test`` as examples (pure; see generate_records)."""
    records = generate_records(seed, sizes, noise=noise)
    return {split: [record.example for record in rows] for split, rows in records.items()}


# --- files --------------------------------------------------------------------------------------


def _entity_dict(entity: Entity) -> dict[str, object]:
    return {
        "word": entity.word,
        "start_idx": entity.start,
        "end_idx": entity.end,
        "type": entity.type,
    }


def klue_json_rows(examples: list[Example]) -> list[dict[str, object]]:
    """Examples as rows of the official KLUE-RE JSON."""
    return [
        {
            "guid": ex.id,
            "sentence": ex.sentence,
            "subject_entity": _entity_dict(ex.subject),
            "object_entity": _entity_dict(ex.object),
            "label": ex.label,
            "source": ex.source,
        }
        for ex in examples
    ]


def write_klue_json(path: Path, examples: list[Example]) -> None:
    """A JSON list, one example a line."""
    lines = [json.dumps(row, ensure_ascii=False) for row in klue_json_rows(examples)]
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def write_competition_csv(path: Path, examples: list[Example]) -> None:
    """The competition's CSV: entity columns hold Python dict literals; id is the row number."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "sentence", "subject_entity", "object_entity", "label", "source"])
        for i, ex in enumerate(examples):
            subject, object_ = repr(_entity_dict(ex.subject)), repr(_entity_dict(ex.object))
            writer.writerow([i, ex.sentence, subject, object_, ex.label, ex.source])


def write_sample(out: Path, splits: Mapping[str, list[Example]]) -> list[Path]:
    """Write ``<split>.json`` and ``<split>.csv`` for every split into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, examples in splits.items():
        write_klue_json(out / f"{split}.json", examples)
        write_competition_csv(out / f"{split}.csv", examples)
        written += [out / f"{split}.json", out / f"{split}.csv"]
    return written


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


# --- command line -------------------------------------------------------------------------------


def summarize(splits: Mapping[str, list[Example]], top: int = 5) -> str:
    """Counts per split and the train label distribution's head and tail, for people."""
    lines = []
    for split, examples in splits.items():
        n = len(examples)
        labels = Counter(ex.label for ex in examples)
        lengths = [len(ex.sentence) for ex in examples] or [0]
        lines.append(
            f"{split:5s} {n:6d} examples  no_relation {labels[NO_RELATION] / max(n, 1):5.1%}  "
            f"relations {len(set(labels) - {NO_RELATION}):2d}/{len(KLUE_RELATIONS) - 1}  "
            f"chars median {statistics.median(lengths):.0f} max {max(lengths)}  "
            f">200 chars {sum(length > 200 for length in lengths) / max(n, 1):5.1%}"
        )
    train = splits.get("train", [])
    ranked = Counter(ex.label for ex in train).most_common()
    if ranked:

        def fmt(pairs: list[tuple[str | None, int]]) -> str:
            return ", ".join(
                f"{label} {count} ({count / len(train):.1%})" for label, count in pairs
            )

        lines.append(f"train head: {fmt(ranked[:top])}")
        lines.append(f"train tail: {fmt(ranked[-top:])}")
    return "\n".join(lines)


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """``python -m objectives.sample --out DIR [--seed 13] [--train N --dev N --test N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m objectives.sample",
        description="Write the built-in KLUE-RE-like sample data (KLUE JSON and competition CSV).",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="generator seed (default 13)"
    )
    for split in SPLITS:
        parser.add_argument(
            f"--{split}",
            type=_size,
            default=DEFAULT_SIZES[split],
            metavar="N",
            help=f"{split} examples (default {DEFAULT_SIZES[split]})",
        )
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out}: exists and is not a directory")
    splits = generate(args.seed, {split: getattr(args, split) for split in SPLITS})
    try:
        write_sample(args.out, splits)
    except OSError as exc:
        raise UserError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    print(f"wrote {', '.join(SAMPLE_FILES)} to {args.out} (seed {args.seed})")
    print(summarize(splits))
    return 0


if __name__ == "__main__":
    run_main(main)

"""Examples written as the files :func:`objectives.data.read_dataset` reads: the official
KLUE-RE JSON and the competition's CSV, one pair per split."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path

from objectives.data._dataset import Entity, Example


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

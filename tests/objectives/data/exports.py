"""Small data files as people export them, written by the tests that read them (offline)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

# (sentence, subject, subject type, object, object type)
SENTENCES = [
    ("이순신은 조선의 장군이었다.", "이순신", "PER", "조선", "LOC"),
    ("삼성전자는 수원에 본사를 두었다.", "삼성전자", "ORG", "수원", "LOC"),
    ("조지 해리슨은 비틀즈의 멤버였다.", "조지 해리슨", "PER", "비틀즈", "ORG"),
    ("김연아는 2010년에 금메달을 땄다.", "김연아", "PER", "2010년", "DAT"),
    ("한국은행은 서울에 있다.", "한국은행", "ORG", "서울", "LOC"),
    ("문재인은 청와대에서 일했다.", "문재인", "PER", "청와대", "ORG"),
]


def entity(sentence: str, word: str, entity_type: str) -> dict[str, object]:
    start = sentence.index(word)
    return {"word": word, "start_idx": start, "end_idx": start + len(word) - 1, "type": entity_type}


def records(labels: list[str], prefix: str = "r") -> list[dict[str, object]]:
    """One KLUE-style record per label, cycling through the sentences."""
    out = []
    for i, label in enumerate(labels):
        sentence, subject, s_type, obj, o_type = SENTENCES[i % len(SENTENCES)]
        out.append(
            {
                "id": f"{prefix}{i}",
                "sentence": sentence,
                "subject_entity": entity(sentence, subject, s_type),
                "object_entity": entity(sentence, obj, o_type),
                "label": label,
                "source": "wikitree",
            }
        )
    return out


def write_competition_csv(path: Path, rows: list[dict[str, object]], extra: bool = True) -> Path:
    """The competition's CSV: pandas' index column, entities as Python dict strings (repr), and
    an odd extra column."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        header = ["", "id", "sentence", "subject_entity", "object_entity", "label", "source"]
        writer.writerow(header + (["memo"] if extra else []))
        for i, row in enumerate(rows):
            fields = [i, row["id"], row["sentence"], repr(row["subject_entity"])]
            fields += [repr(row["object_entity"]), row["label"], row["source"]]
            writer.writerow(fields + (["검수 완료"] if extra else []))
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")
    return path


def write_klue_json(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


KOREAN_TRAIN = ["관계없음"] * 6 + ["인물:소속"] * 3 + ["단체:본사"] * 2 + ["인물:출신"]
KOREAN_DEV = ["관계없음"] * 3 + ["인물:소속", "단체:본사", "인물:출신"]

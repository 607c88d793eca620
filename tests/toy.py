"""A small, easy relation-extraction data set for tests that train a real (tiny) model."""

from __future__ import annotations

import random

from objectives.data._dataset import Dataset, Entity, Example
from objectives.data._inputs import TrialData
from objectives.data._labels import klue_labels

PEOPLE = ["김철수", "이영희", "박민수", "최지우", "정우성", "한지민", "윤아름", "장동건"]
ORGS = ["삼성전자", "엘지화학", "현대자동차", "카카오", "네이버", "한국은행", "서울대학교"]


def _example(i: int, rng: random.Random) -> Example:
    person, org = rng.choice(PEOPLE), rng.choice(ORGS)
    employed = rng.random() < 0.5
    tail = "에서 일한다." if employed else " 제품을 샀다."
    sentence = f"{person}는 {org}{tail}"
    start = len(person) + 2
    return Example(
        id=f"toy-{i}",
        sentence=sentence,
        subject=Entity(person, 0, len(person) - 1, "PER"),
        object=Entity(org, start, start + len(org) - 1, "ORG"),
        label="per:employee_of" if employed else "no_relation",
    )


def toy_data(train: int = 160, dev: int = 48, seed: int = 0, test: bool = False) -> TrialData:
    rng = random.Random(seed)
    examples = [_example(i, rng) for i in range(train + dev)]
    test_set = None
    if test:
        test_set = Dataset("toy-test", tuple(ex for ex in examples[train:]))
    return TrialData(
        Dataset("toy-train", tuple(examples[:train])),
        Dataset("toy-dev", tuple(examples[train:])),
        klue_labels(),
        test_set,
    )


def write_toy_files(directory, train: int = 160, dev: int = 48, seed: int = 0):
    """``toy_data`` as KLUE JSON files: (train path, dev path)."""
    from pathlib import Path

    from objectives.data._writing import write_klue_json

    data = toy_data(train, dev, seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "train.json", directory / "dev.json"
    write_klue_json(paths[0], list(data.train.examples))
    write_klue_json(paths[1], list(data.dev.examples))
    return paths

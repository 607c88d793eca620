"""The no-relation label must occur in the data: otherwise the data's real no-relation label
would be scored as a relation and micro-F1 and AUPRC would be wrong without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from common._cli import UserError
from objectives import describe as eda
from objectives.data._inputs import load_trial_data
from objectives.data._labels import LabelSet, check_no_relation, no_relation_candidate
from objectives.finetune import main as finetune_main
from objectives.score import main as score_main
from tests.objectives.data.exports import (
    KOREAN_DEV,
    KOREAN_TRAIN,
    records,
    write_competition_csv,
    write_jsonl,
    write_klue_json,
)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["인물:소속", "관계없음", "단체:본사"], "관계없음"),
        (["per:title", "NONE", "org:founded"], "NONE"),
        (["Cause-Effect", "Other", "Entity-Origin"], "Other"),
        (["per:other_family", "per:title"], None),  # a relation, not "no relation"
        (["per:title", "org:founded"], None),
        (["no_relation", "per:title"], "no_relation"),
    ],
)
def test_the_likely_no_relation_label(names: list[str], expected: str | None) -> None:
    assert no_relation_candidate(dict.fromkeys(names, 1)) == expected


def test_an_absent_no_relation_label_is_one_line_naming_labels_and_the_candidate() -> None:
    with pytest.raises(UserError) as info:
        check_no_relation(KOREAN_TRAIN, "no_relation", "train.csv")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("train.csv: the no-relation label 'no_relation' occurs in none")
    assert "관계없음 (6), 인물:소속 (3)" in message
    assert "--no-relation 관계없음" in message


def _korean_files(tmp_path: Path) -> tuple[Path, Path]:
    train = write_competition_csv(tmp_path / "train.csv", records(KOREAN_TRAIN))
    dev = write_jsonl(tmp_path / "dev.jsonl", records(KOREAN_DEV, "d"))
    return train, dev


def test_run_data_with_another_no_relation_name_stops(tmp_path: Path) -> None:
    train, dev = _korean_files(tmp_path)
    with pytest.raises(UserError, match="--no-relation 관계없음"):
        load_trial_data(train, dev)
    data = load_trial_data(train, dev, no_relation="관계없음")
    assert data.labels.no_relation == "관계없음"
    assert "no_relation" not in data.labels  # no phantom class that never occurs
    assert len(data.labels) == 4


def test_a_relation_list_without_the_name_suggests_it(tmp_path: Path) -> None:
    train, dev = _korean_files(tmp_path)
    names = tmp_path / "relations.txt"
    names.write_text("관계없음\n인물:소속\n단체:본사\n인물:출신\n", encoding="utf-8")
    with pytest.raises(UserError, match="--no-relation 관계없음"):
        load_trial_data(train, dev, labels_file=names)


def test_finetune_stops_before_training(tmp_path: Path) -> None:
    train, dev = _korean_files(tmp_path)
    argv = ["--train", str(train), "--dev", str(dev), "--out", str(tmp_path / "out")]
    with pytest.raises(UserError, match="occurs in none of the examples"):
        finetune_main(argv)
    assert not (tmp_path / "out").exists()


def test_inspect_stops_and_shows_the_no_relation_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, _ = _korean_files(tmp_path)
    with pytest.raises(UserError, match="--no-relation 관계없음"):
        eda.main(["--train", str(train)])
    assert eda.main(["--train", str(train), "--no-relation", "관계없음"]) == 0
    out = capsys.readouterr().out
    assert "no-relation label: 관계없음" in out
    assert "관계없음  (no relation)" in out


def test_score_stops_on_gold_without_the_no_relation_label(tmp_path: Path) -> None:
    import numpy as np

    from objectives.data._predictions import label_order_path, write_predictions

    gold = write_klue_json(tmp_path / "gold.json", records(KOREAN_DEV, "d"))
    # a relation list that keeps KLUE's "no_relation" first, as copied from KLUE's file
    names = ("no_relation", "관계없음", "인물:소속", "단체:본사", "인물:출신")
    relations = tmp_path / "relations.txt"
    relations.write_text("\n".join(names) + "\n", encoding="utf-8")
    probs = np.eye(5)[[names.index(label) for label in KOREAN_DEV]] * 0.6 + 0.08
    pred = tmp_path / "sub.csv"
    write_predictions(pred, [f"d{i}" for i in range(6)], probs, LabelSet(names))
    label_order_path(pred).unlink()
    argv = ["--gold", str(gold), "--pred", str(pred), "--labels", str(relations)]
    with pytest.raises(UserError, match="--no-relation 관계없음"):
        score_main(argv)
    assert score_main([*argv, "--no-relation", "관계없음"]) == 0

"""A file with many bad rows is fixed in one run: up to 20 row errors at once, then a count; and
curly quotes around entity keys and values, as real exports have them, are read and counted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from common._cli import RowErrors, UserError, run_main
from objectives.data._dataset import read_dataset
from objectives.data._entity_text import straighten_quotes
from objectives.describe import main as inspect_main
from tests.objectives.data.exports import KOREAN_TRAIN, records, write_competition_csv


def _csv_with_bad_rows(tmp_path: Path, bad: int) -> Path:
    rows = records(KOREAN_TRAIN * 4)
    for row in rows[:bad]:
        row["subject_entity"] = {**row["subject_entity"], "start_idx": "x"}
    return write_competition_csv(tmp_path / "train.csv", rows)


def test_every_bad_row_up_to_20_then_a_count(tmp_path: Path, capsys) -> None:
    path = _csv_with_bad_rows(tmp_path, 23)
    with pytest.raises(RowErrors) as info:
        read_dataset(path)
    assert info.value.count == 23
    with pytest.raises(SystemExit) as exited:
        run_main(lambda argv: read_dataset(path) and 0)
    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"error: {path}: 23 bad rows"
    assert len(lines) == 1 + 20 + 1
    assert lines[1].startswith(f"error: {path}: row 1 (id r0): subject_entity: 'start_idx'")
    assert lines[20].startswith(f"error: {path}: row 20 (id r19)")
    assert lines[-1] == f"error: {path}: and 3 more bad rows"


def test_one_bad_row_is_still_one_line(tmp_path: Path) -> None:
    path = _csv_with_bad_rows(tmp_path, 1)
    with pytest.raises(UserError) as info:
        read_dataset(path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"{path}: row 1 (id r0): subject_entity")


def test_repeated_ids_are_collected_with_the_other_errors(tmp_path: Path) -> None:
    rows = records(KOREAN_TRAIN)
    rows[3]["id"] = rows[5]["id"] = rows[0]["id"]
    rows[7]["sentence"] = ""
    path = write_competition_csv(tmp_path / "train.csv", rows)
    with pytest.raises(RowErrors) as info:
        read_dataset(path)
    assert info.value.count == 3
    assert any("row 4: id 'r0' repeats row 1" in m for m in info.value.messages)
    assert any("row 6: id 'r0' repeats row 1" in m for m in info.value.messages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{‘word’: ‘CLS’, ‘start_idx’: 0}", "{'word': 'CLS', 'start_idx': 0}"),
        ("{'word': ‘CLS', 'type': 'ORG'}", "{'word': 'CLS', 'type': 'ORG'}"),
        ("{“word”:“CLS”}", "{'word':'CLS'}"),
        ("{'word': '‘나’의 노래'}", "{'word': '‘나’의 노래'}"),  # quotes inside a word stay
    ],
)
def test_straighten_quotes(text: str, expected: str) -> None:
    assert straighten_quotes(text) == expected


def _curly(entity: dict[str, object], whole: bool) -> str:
    text = repr(entity)
    if not whole:  # one value opened with a curly quote, closed with a straight one
        return text.replace("'word': '", "'word': ‘")
    for straight, curly in (
        ("{'", "{‘"),
        ("':", "’:"),
        (": '", ": ‘"),
        ("',", "’,"),
        (", '", ", ‘"),
    ):
        text = text.replace(straight, curly)
    return text


def _curly_csv(tmp_path: Path) -> Path:
    path = tmp_path / "curly.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "sentence", "subject_entity", "object_entity", "label"])
        for i, row in enumerate(records(KOREAN_TRAIN)):
            subject = repr(row["subject_entity"])
            if i % 2 == 0 or i % 3 == 0:
                subject = _curly(row["subject_entity"], whole=i % 2 == 0)
            writer.writerow(
                [row["id"], row["sentence"], subject, repr(row["object_entity"]), row["label"]]
            )
    return path


def test_curly_quotes_are_read_and_counted(tmp_path: Path, capsys) -> None:
    path = _curly_csv(tmp_path)
    assert "‘" in path.read_text(encoding="utf-8")
    dataset = read_dataset(path)
    plain = read_dataset(write_competition_csv(tmp_path / "plain.csv", records(KOREAN_TRAIN)))
    assert [ex.subject for ex in dataset.examples] == [ex.subject for ex in plain.examples]
    assert dataset.straightened == 8  # rows 0, 2, 4, 6, 8, 10 curly; rows 3 and 9 half
    assert inspect_main(["--train", str(path), "--no-relation", "관계없음"]) == 0
    assert "8 entity strings with curly quotes read as straight" in capsys.readouterr().out


def test_csv_rows_with_the_wrong_field_count_are_collected(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    rows = ["id,sentence,subject_entity,object_entity,label"] + [
        f"r{i},only,three" for i in range(5)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(RowErrors) as info:
        read_dataset(path)
    assert info.value.count == 5
    assert info.value.lines()[0] == f"{path}: 5 bad rows"
    assert info.value.lines()[-1] == f"{path}: row 5: expected 5 fields, found 3"


def test_prediction_rows_are_collected_too(tmp_path: Path) -> None:
    from objectives.data._labels import LabelSet
    from objectives.data._predictions import read_predictions

    path = tmp_path / "sub.csv"
    lines = ["id,pred_label,probs", 'a,x,"[0.5, 0.5]"', 'b,no_relation,"[2, 0]"']
    lines += ['a,no_relation,"[1, 0]"', 'c,no_relation,"[1, 0]"', 'c,no_relation,"[1, 0]"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RowErrors) as info:
        read_predictions(path, LabelSet(("no_relation", "per:title")))
    assert info.value.count == 3  # row 3 reuses the id of a bad row: not a repeat
    assert "row 1: pred_label: 'x' is not a known relation" in info.value.messages[0]
    assert "row 2: probs: value 0 is 2" in info.value.messages[1]
    assert "row 5: id 'c' repeats row 4" in info.value.messages[2]

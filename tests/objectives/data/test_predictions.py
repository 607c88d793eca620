"""Submission files: round trip, the competition's format, and one-line errors for bad files."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from common._cli import UserError
from objectives.data._labels import LabelSet
from objectives.data._predictions import format_probs, read_predictions, write_predictions

LABELS = LabelSet(("no_relation", "org:founded", "per:title"), "no_relation")
HEADER = "id,pred_label,probs\n"


def write(tmp_path: Path, text: str | bytes, name: str = "pred.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def user_error(path: Path) -> str:
    with pytest.raises(UserError) as info:
        read_predictions(path, LABELS)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_round_trip_keeps_ids_labels_and_exact_probs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=5)
    ids = ["a", "b,with comma", '"quoted"', "한국어", "5"]
    path = tmp_path / "sub.csv"
    write_predictions(path, ids, probs, LABELS)
    read = read_predictions(path, LABELS)
    assert read.ids == tuple(ids)
    np.testing.assert_array_equal(read.probs, probs)  # repr round-trips float64 exactly
    np.testing.assert_array_equal(read.pred_ids, probs.argmax(1))
    assert len(read) == 5
    assert not read.probs.flags.writeable
    assert not read.pred_ids.flags.writeable


def test_written_file_has_the_competition_format(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    write_predictions(path, ["0", "1"], np.array([[0.1, 0.9, 0.0], [0.5, 0.25, 0.25]]), LABELS)
    assert path.read_text(encoding="utf-8") == (
        'id,pred_label,probs\n0,org:founded,"[0.1, 0.9, 0.0]"\n1,no_relation,"[0.5, 0.25, 0.25]"\n'
    )
    assert format_probs(np.array([1e-5, 0.5], dtype=np.float32)) == "[9.999999747378752e-06, 0.5]"


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    path.write_text("old contents", encoding="utf-8")
    with pytest.raises(ValueError):
        write_predictions(path, ["a"], np.array([[0.5, 0.5]]), LABELS)  # wrong width
    assert path.read_text(encoding="utf-8") == "old contents"
    write_predictions(path, ["a"], np.array([[0.2, 0.3, 0.5]]), LABELS)
    assert sorted(os.listdir(tmp_path)) == ["sub.csv", "sub.labels.json"]
    assert read_predictions(path, LABELS).ids == ("a",)


def test_write_rejects_bad_inputs(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    with pytest.raises(ValueError, match="shape"):
        write_predictions(path, ["a", "b"], np.array([[0.2, 0.3, 0.5]]), LABELS)
    with pytest.raises(ValueError, match="probabilities"):
        write_predictions(path, ["a"], np.array([[np.nan, 0.5, 0.5]]), LABELS)
    with pytest.raises(ValueError, match="probabilities"):
        write_predictions(path, ["a"], np.array([[3.0, -1.0, 0.5]]), LABELS)  # logits, not probs
    with pytest.raises(ValueError, match="repeat"):
        write_predictions(path, ["a", "a"], np.full((2, 3), 1 / 3), LABELS)
    assert not path.exists()


def test_reads_python_literal_probs_bom_extra_columns_and_blank_lines(tmp_path: Path) -> None:
    text = (
        "\ufeffUnnamed: 0,id,pred_label,probs\n"
        '0,x1,per:title,"[0, 0.25, 0.75]"\n'
        "\n"
        '1,x2,no_relation,"(1.0, 0.0, 0.0,)"\n'
    )
    read = read_predictions(write(tmp_path, text), LABELS)
    assert read.ids == ("x1", "x2")
    assert read.pred_ids.tolist() == [2, 0]
    np.testing.assert_array_equal(read.probs, [[0, 0.25, 0.75], [1, 0, 0]])


def test_a_pred_label_that_is_not_the_argmax_is_refused(tmp_path: Path) -> None:
    # probs in another label order than the one given would score a wrong AUPRC
    rows = 'a,per:title,"[0.1, 0.8, 0.1]"\nb,org:founded,"[0.1, 0.8, 0.1]"\n'
    path = write(tmp_path, HEADER + rows)
    message = user_error(path)
    assert "row 1 (id a): pred_label 'per:title'" in message
    assert "another label order" in message


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in user_error(tmp_path / "absent.csv")


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    assert "empty" in user_error(write(tmp_path, "", "empty.csv"))
    assert "empty" in user_error(write(tmp_path, "  \n\n", "blank.csv"))
    assert "no prediction rows" in user_error(write(tmp_path, HEADER, "header.csv"))


def test_non_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.encode() + 'a,per:title,"[0, 0, 1]"\n\xb0\n'.encode("latin-1"))
    assert "line 3: not UTF-8" in user_error(path)


def test_missing_column(tmp_path: Path) -> None:
    message = user_error(write(tmp_path, "id,pred_label\na,per:title\n"))
    assert "missing column 'probs'" in message


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('a,per:title,"[0.1, 0.9]"', "row 2: probs: has 2 values, expected 3"),
        ('a,per:title,"[0.1, 0.2, 0.3, 0.4]"', "row 2: probs: has 4 values, expected 3"),
        ("a,per:title,0.5", "row 2: probs: not a list of numbers"),
        ('a,per:title,"[0.1, oops, 0.9]"', "row 2: probs: not a list of numbers"),
        ("a,per:title,\"__import__('os')\"", "row 2: probs: not a list of numbers"),
        ('a,per:title,"[0.1, ""x"", 0.9]"', "row 2: probs: value 1 is 'x', not a number"),
        ('a,per:title,"[0.1, true, 0.9]"', "row 2: probs: value 1 is True, not a number"),
        ('a,per:title,"[0.1, NaN, 0.9]"', "row 2: probs: value 1 is nan, not a probability"),
        ('a,per:title,"[0.1, -2.5, 0.9]"', "row 2: probs: value 1 is -2.5, not a probability"),
        ("a,per:title,", "row 2: probs: empty"),
        ('a,org:dissolved,"[0, 0, 1]"', "row 2: pred_label: 'org:dissolved' is not a known"),
        ('a,,"[0, 0, 1]"', "row 2: pred_label: empty"),
        (',per:title,"[0, 0, 1]"', "row 2: id: empty"),
        ('b,per:title,"[0, 0, 1]",extra', "row 2: expected 3 fields, found 4"),
    ],
)
def test_bad_rows_name_the_row_and_field(tmp_path: Path, row: str, expected: str) -> None:
    path = write(tmp_path, HEADER + 'x,per:title,"[0, 0, 1]"\n' + row + "\n")
    assert expected in user_error(path)


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    good = '"[0, 0, 1]"'
    text = HEADER + f"a,per:title,{good}\nb,per:title,{good}\na,per:title,{good}\n"
    assert "row 3: id 'a' repeats row 1" in user_error(write(tmp_path, text))


def test_written_file_reads_back_with_the_csv_module(tmp_path: Path) -> None:
    path = tmp_path / "sub.csv"
    write_predictions(path, ["x"], np.array([[0.25, 0.25, 0.5]]), LABELS)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"id": "x", "pred_label": "per:title", "probs": "[0.25, 0.25, 0.5]"}]

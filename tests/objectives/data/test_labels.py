import json

import pytest

from common._cli import UserError
from objectives.data._labels import (
    KLUE_RELATIONS,
    LabelSet,
    infer_labels,
    klue_labels,
    read_label_file,
)


def test_klue_order_matches_relation_list():
    labels = klue_labels()
    assert len(labels) == 30
    assert labels.id("no_relation") == 0
    assert labels.id("org:dissolved") == 1
    assert labels.id("per:title") == 29
    assert labels.relation_ids == list(range(1, 30))


def test_custom_no_relation_name():
    labels = LabelSet(("a", "NA", "b"), no_relation="NA")
    assert labels.no_relation_id == 1
    assert labels.relation_ids == [0, 2]


def test_no_relation_must_be_a_label():
    with pytest.raises(UserError, match="--no-relation"):
        LabelSet(("a", "b"))


def test_duplicate_label_rejected():
    with pytest.raises(UserError, match="twice"):
        LabelSet(("no_relation", "a", "a"))


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(list(KLUE_RELATIONS)),
        json.dumps({"relations": list(KLUE_RELATIONS)}),
        json.dumps({name: i for i, name in reversed(list(enumerate(KLUE_RELATIONS)))}),
        "\n".join(KLUE_RELATIONS) + "\n",
    ],
)
def test_relation_list_file_formats(tmp_path, content):
    path = tmp_path / "relations.txt"
    path.write_text(content, encoding="utf-8")
    assert read_label_file(path).names == KLUE_RELATIONS


def test_relation_list_with_gaps_rejected(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"no_relation": 0, "x": 2}', encoding="utf-8")
    with pytest.raises(UserError, match=str(path)):
        read_label_file(path)


def test_infer_keeps_klue_order_for_klue_labels():
    assert infer_labels(["per:title", "no_relation"]) == klue_labels()


def test_infer_custom_labels_puts_no_relation_first():
    labels = infer_labels(["z", "NA", "a"], no_relation="NA")
    assert labels.names == ("NA", "a", "z")

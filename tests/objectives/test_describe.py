from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from common._cli import run_main
from objectives import describe as eda
from objectives.data._dataset import read_dataset
from objectives.data._labels import LabelSet
from objectives.encoding._markers import char_to_token, mark_example, special_tokens
from objectives.models._loading import load_tokenizer
from objectives.models._tiny import ensure_tiny_model

FILLER = "그리고 그는 서울에서 오랫동안 일했다"
SHORT = [
    # (sentence, subject word, subject type, object word, object type, label)
    ("이순신은 조선의 장군이었다.", "이순신", "PER", "조선", "LOC", "per:origin"),
    ("삼성전자는 수원에 본사를 두었다.", "삼성전자", "ORG", "수원", "LOC", "org:founded"),
    ("조지 해리슨은 비틀즈의 멤버였다.", "조지 해리슨", "PER", "비틀즈", "ORG", "per:employee_of"),
    ("김연아는 2010년에 금메달을 땄다.", "김연아", "PER", "2010년", "DAT", "no_relation"),
    ("박지성은 맨체스터에서 뛰었다.", "박지성", "PER", "맨체스터", "ORG", "per:employee_of"),
    ("한국은행은 서울에 있다.", "한국은행", "ORG", "서울", "LOC", "no_relation"),
    ("문재인은 청와대에서 일했다.", "문재인", "PER", "청와대", "ORG", "no_relation"),
]


def entity(sentence: str, word: str, entity_type: str) -> dict[str, Any]:
    start = sentence.index(word)
    return {"word": word, "start_idx": start, "end_idx": start + len(word) - 1, "type": entity_type}


def rows() -> list[dict[str, Any]]:
    """SHORT, plus one sentence whose object sits ~150 words (well past 64 tokens) in."""
    long_sentence = "홍길동은 " + " ".join([FILLER] * 30) + " 마침내 율도국을 세웠다."
    cases = [*SHORT, (long_sentence, "홍길동", "PER", "율도국", "ORG", "no_relation")]
    return [
        {
            "guid": f"ex{i}",
            "sentence": sentence,
            "subject_entity": entity(sentence, subject, subject_type),
            "object_entity": entity(sentence, obj, object_type),
            "label": label,
            "source": "test",
        }
        for i, (sentence, subject, subject_type, obj, object_type, label) in enumerate(cases)
    ]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.json"
    path.write_text(json.dumps(rows(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def tokenizer(data_file: Path, cache: Path) -> Any:
    sentences = [ex.sentence for ex in read_dataset(data_file).examples]
    return load_tokenizer(str(ensure_tiny_model(sentences, cache)), special_tokens("entity"))


@pytest.fixture(autouse=True)
def offline_cache(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RE_SEARCH_CACHE", str(cache))


def test_counts(data_file: Path, tokenizer: Any) -> None:
    summary = eda.summarize(read_dataset(data_file), tokenizer, "entity")
    assert summary["rows"] == 8
    assert summary["labels"][0] == {"label": "no_relation", "count": 4, "share": 0.5}
    assert summary["labels"][1] == {"label": "per:employee_of", "count": 2, "share": 0.25}
    assert [d["count"] for d in summary["labels"]] == [4, 2, 1, 1]
    assert [d["label"] for d in summary["labels"][2:]] == ["org:founded", "per:origin"]
    pairs = {(d["subject"], d["object"]): d["count"] for d in summary["entity_pairs"]}
    assert pairs == {("PER", "ORG"): 4, ("PER", "LOC"): 1, ("ORG", "LOC"): 2, ("PER", "DAT"): 1}
    top = summary["entity_pairs"][0]
    assert (top["subject"], top["object"], top["share"]) == ("PER", "ORG", 0.5)


def test_a_label_set_lists_unused_labels(data_file: Path, tokenizer: Any) -> None:
    names = ("no_relation", "per:origin", "org:founded", "per:employee_of", "x")
    labels = LabelSet(names)
    summary = eda.summarize(read_dataset(data_file, labels), tokenizer, "entity", labels=labels)
    assert summary["labels"][-1] == {"label": "x", "count": 0, "share": 0.0}


def test_percentiles_match_numpy_on_the_same_lengths(data_file: Path, tokenizer: Any) -> None:
    dataset = read_dataset(data_file)
    summary = eda.summarize(dataset, tokenizer, "entity")
    texts = [mark_example(ex, "entity").text for ex in dataset.examples]
    lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]  # special tokens included
    stats = summary["token_lengths"]
    for q in eda.PERCENTILES:
        assert stats[f"p{q}"] == pytest.approx(np.percentile(lengths, q))
    assert stats["max"] == max(lengths) > 150
    assert stats["mean"] == pytest.approx(np.mean(lengths))


def test_object_far_past_64_tokens_is_cut(data_file: Path, tokenizer: Any) -> None:
    summary = eda.summarize(read_dataset(data_file), tokenizer, "entity", max_lens=(64, 128, 512))
    by_len = {row["max_len"]: row for row in summary["truncation"]}
    assert by_len[64]["object_cut"] == by_len[64]["either_cut"] == pytest.approx(1 / 8)
    assert by_len[64]["subject_cut"] == 0
    assert by_len[128]["object_cut"] == pytest.approx(1 / 8)
    assert by_len[512] == {
        "max_len": 512,
        "truncated": 0.0,
        "subject_cut": 0.0,
        "object_cut": 0.0,
        "either_cut": 0.0,
    }


@pytest.mark.parametrize("scheme", ["entity", "typed_punct", "none"])
def test_cut_share_agrees_with_real_truncation(
    data_file: Path, tokenizer: Any, scheme: str
) -> None:
    """Oracle: tokenize with truncation and look for the start markers, as training does."""
    dataset = read_dataset(data_file)
    marked = [mark_example(ex, scheme) for ex in dataset.examples]
    summary = eda.summarize(dataset, tokenizer, scheme, max_lens=(16, 64, 128))
    for row in summary["truncation"]:
        encoded = tokenizer(
            [m.text for m in marked],
            truncation=True,
            max_length=row["max_len"],
            return_offsets_mapping=True,
        )
        lost = [
            char_to_token(offsets, m.subject_start) is None
            or char_to_token(offsets, m.object_start) is None
            for m, offsets in zip(marked, encoded["offset_mapping"], strict=True)
        ]
        assert row["either_cut"] == pytest.approx(np.mean(lost))


def test_truncation_row_counts_special_tokens_and_truncation_side() -> None:
    lengths = np.array([10, 100, 100])
    subject = np.array([0, 0, 90])
    obj = np.array([5, 70, 2])
    right = eda.truncation_row(lengths, subject, obj, max_len=64, n_special=2)
    assert right["truncated"] == pytest.approx(2 / 3)
    assert right["subject_cut"] == pytest.approx(1 / 3)  # position 90 >= 62 kept tokens
    assert right["object_cut"] == pytest.approx(1 / 3)
    assert right["either_cut"] == pytest.approx(2 / 3)
    left = eda.truncation_row(lengths, subject, obj, max_len=64, n_special=2, left=True)
    assert left["subject_cut"] == pytest.approx(1 / 3)  # keeps tokens 38..99: 0 is lost
    assert left["object_cut"] == pytest.approx(1 / 3)  # position 2 of 100 is lost
    assert left["either_cut"] == pytest.approx(2 / 3)
    edge = eda.truncation_row(np.array([62]), np.array([61]), np.array([61]), 64, 2)
    assert edge["truncated"] == 0 and edge["either_cut"] == 0


def test_format_table_aligns_columns() -> None:
    lines = eda.format_table(["name", "n"], [["a", 5], ["long name", 120]])
    assert lines == ["  name         n", "  a            5", "  long name  120"]


def test_main_json_output_parses(
    data_file: Path, capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    assert eda.main(["--train", str(data_file), "--markers", "typed_entity", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 8 and summary["scheme"] == "typed_entity"
    assert summary["model"] == "tiny" and summary["max_positions"] == 512
    assert [row["max_len"] for row in summary["truncation"]] == [64, 128, 256]
    assert any(p.name.startswith("tiny-") for p in (cache / "models").iterdir())


def test_main_prints_tables(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert eda.main(["--train", str(data_file)]) == 0
    out = capsys.readouterr().out
    assert "rows     8" in out
    assert "PER -> ORG" in out
    assert "no_relation" in out and "50.0%" in out
    assert "max_len  truncated  subject cut  object cut  either cut" in out


def test_bad_markers_exit_2(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        eda.main(["--train", str(data_file), "--markers", "bold"])
    assert caught.value.code == 2
    assert "--markers" in capsys.readouterr().err


def test_missing_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        run_main(eda.main, ["--train", str(tmp_path / "nope.json")])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope.json" in err and err.count("\n") == 1

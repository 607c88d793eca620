import json

import pytest

from common._cli import UserError
from objectives.data._dataset import Entity, read_dataset
from objectives.data._labels import klue_labels

SENTENCE = "〈Something〉는 조지 해리슨이 쓰고 비틀즈가 1969년 앨범 《Abbey Road》에 담은 노래다."
SUBJ = {"word": "비틀즈", "start_idx": 24, "end_idx": 26, "type": "ORG"}
OBJ = {"word": "조지 해리슨", "start_idx": 13, "end_idx": 18, "type": "PER"}


def klue_record(guid="klue-re-v1_train_00000", label="no_relation", **over):
    record = {
        "guid": guid,
        "sentence": SENTENCE,
        "subject_entity": dict(SUBJ),
        "object_entity": dict(OBJ),
        "label": label,
        "source": "wikipedia",
    }
    record.update(over)
    return record


def write_json(tmp_path, records, name="train.json"):
    path = tmp_path / name
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(tmp_path, text, name="train.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


COMPETITION_CSV = (
    "id,sentence,subject_entity,object_entity,label,source\n"
    f'0,{SENTENCE},"{SUBJ!r}","{OBJ!r}",no_relation,wikipedia\n'
    f'1,{SENTENCE},"{OBJ!r}","{SUBJ!r}",per:employee_of,wikipedia\n'
)


def test_klue_json_reads_typed_entities(tmp_path):
    data = read_dataset(write_json(tmp_path, [klue_record()]), klue_labels())
    (ex,) = data.examples
    assert ex.id == "klue-re-v1_train_00000"
    assert ex.subject == Entity("비틀즈", 24, 26, "ORG")
    assert ex.object == Entity("조지 해리슨", 13, 18, "PER")
    assert ex.sentence[ex.subject.start : ex.subject.end + 1] == "비틀즈"
    assert ex.label == "no_relation" and ex.source == "wikipedia"
    assert data.repaired == 0


def test_competition_csv_parses_dict_strings_and_matches_json(tmp_path):
    csv_data = read_dataset(write_csv(tmp_path, COMPETITION_CSV), klue_labels())
    assert [ex.label for ex in csv_data.examples] == ["no_relation", "per:employee_of"]
    assert csv_data.examples[1].subject == Entity("조지 해리슨", 13, 18, "PER")
    records = [klue_record(guid="0"), klue_record(guid="1", label="per:employee_of")]
    records[1]["subject_entity"], records[1]["object_entity"] = dict(OBJ), dict(SUBJ)
    json_data = read_dataset(write_json(tmp_path, records), klue_labels())
    assert csv_data.fingerprint == json_data.fingerprint


def test_jsonl_and_variant_keys(tmp_path):
    subj = {"text": "비틀즈", "start": "24", "end": "26", "entity_type": "ORG"}
    line = {
        "id": "a",
        "sentence": SENTENCE,
        "subject": subj,
        "object": OBJ,
        "label": 18,  # an integer id: per:employee_of in KLUE's order
    }
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n\n", encoding="utf-8")
    (ex,) = read_dataset(path, klue_labels()).examples
    assert ex.subject == Entity("비틀즈", 24, 26, "ORG")
    assert ex.label == "per:employee_of"


def test_unnamed_index_column_becomes_the_id(tmp_path):
    text = ",sentence,subject_entity,object_entity,label\n" + (
        f'7,{SENTENCE},"{SUBJ!r}","{OBJ!r}",1\n'
    )
    (ex,) = read_dataset(write_csv(tmp_path, text), klue_labels()).examples
    assert ex.id == "7" and ex.label == "org:dissolved"


def test_test_file_without_labels(tmp_path):
    text = "id,sentence,subject_entity,object_entity,label\n" + (
        f'0,{SENTENCE},"{SUBJ!r}","{OBJ!r}",100\n'  # the competition's dummy test label
    )
    data = read_dataset(write_csv(tmp_path, text), klue_labels(), with_labels=False)
    assert data.examples[0].label is None and not data.labeled


def test_offsets_repaired_when_word_is_unique(tmp_path):
    record = klue_record(subject_entity={**SUBJ, "start_idx": 23, "end_idx": 25})
    data = read_dataset(write_json(tmp_path, [record]), klue_labels())
    assert data.examples[0].subject == Entity("비틀즈", 24, 26, "ORG")
    assert data.repaired == 1


def test_labels_kept_as_names_without_label_set(tmp_path):
    data = read_dataset(write_json(tmp_path, [klue_record(label="custom:rel")]))
    assert data.examples[0].label == "custom:rel"


def test_fingerprint_changes_with_content(tmp_path):
    a = read_dataset(write_json(tmp_path, [klue_record()], "a.json"), klue_labels())
    b = read_dataset(
        write_json(tmp_path, [klue_record(label="per:title")], "b.json"), klue_labels()
    )
    assert a.fingerprint != b.fingerprint


# --- bad input: one line naming the file, the row and the field ---------------------------------


def error_of(path, **kwargs):
    with pytest.raises(UserError) as info:
        read_dataset(path, klue_labels(), **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_file(tmp_path):
    assert "not found" in error_of(tmp_path / "nope.json")


def test_empty_file(tmp_path):
    assert "empty" in error_of(write_csv(tmp_path, "  \n"))


def test_header_only_file(tmp_path):
    text = "id,sentence,subject_entity,object_entity,label\n"
    assert "no examples" in error_of(write_csv(tmp_path, text))


def test_bad_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"guid": 1,}', encoding="utf-8")
    assert "bad JSON at line 1" in error_of(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "cp949.csv"
    path.write_bytes(COMPETITION_CSV.encode("cp949"))
    assert "not UTF-8" in error_of(path)


def test_missing_column(tmp_path):
    text = "id,sentence,object_entity,label\n" + f'0,{SENTENCE},"{OBJ!r}",no_relation\n'
    message = error_of(write_csv(tmp_path, text))
    assert "row 1" in message and "subject_entity" in message


def test_missing_label_column_on_a_training_file(tmp_path):
    text = "id,sentence,subject_entity,object_entity\n" + (f'0,{SENTENCE},"{SUBJ!r}","{OBJ!r}"\n')
    assert "missing column 'label'" in error_of(write_csv(tmp_path, text))


def test_wrong_field_count(tmp_path):
    text = "id,sentence,subject_entity,object_entity,label\n0,문장,x\n"
    assert "row 1: expected 5 fields, found 3" in error_of(write_csv(tmp_path, text))


def test_dict_string_carrying_code_is_rejected(tmp_path):
    evil = "__import__('os').system('touch PWNED')"
    text = "id,sentence,subject_entity,object_entity,label\n" + (
        f'0,{SENTENCE},"{evil}","{OBJ!r}",no_relation\n'
    )
    message = error_of(write_csv(tmp_path, text))
    assert "subject_entity" in message and "not a dict literal" in message
    assert not (tmp_path / "PWNED").exists()


def test_offset_outside_sentence(tmp_path):
    record = klue_record(object_entity={**OBJ, "start_idx": 13, "end_idx": 999})
    message = error_of(write_json(tmp_path, [record]))
    assert "row 1" in message and "object_entity" in message and "outside" in message


def test_mismatched_offsets_with_ambiguous_word(tmp_path):
    sentence = "비틀즈와 비틀즈"
    record = klue_record(
        sentence=sentence,
        subject_entity={"word": "비틀즈", "start_idx": 1, "end_idx": 3, "type": "ORG"},
        object_entity={"word": "와", "start_idx": 3, "end_idx": 3, "type": "ORG"},
    )
    message = error_of(write_json(tmp_path, [record]))
    assert "more than once" in message and "subject_entity" in message


def test_unknown_label(tmp_path):
    message = error_of(write_json(tmp_path, [klue_record(label="per:favourite_food")]))
    assert "per:favourite_food" in message and "row 1" in message


def test_label_id_out_of_range(tmp_path):
    assert "outside 0..29" in error_of(write_json(tmp_path, [klue_record(label=30)]))


def test_duplicate_ids(tmp_path):
    records = [klue_record(guid="x"), klue_record(guid="y"), klue_record(guid="x")]
    message = error_of(write_json(tmp_path, records))
    assert "row 3" in message and "'x'" in message and "row 1" in message


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_text("x", encoding="utf-8")
    assert "unknown data format" in error_of(path)


def test_crossing_entities_rejected(tmp_path):
    record = klue_record(
        subject_entity={"word": "조지 해리슨", "start_idx": 13, "end_idx": 18, "type": "PER"},
        object_entity={"word": "해리슨이", "start_idx": 16, "end_idx": 19, "type": "PER"},
    )
    assert "overlap" in error_of(write_json(tmp_path, [record]))

import ast
import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from common._cli import UserError
from objectives import sample as sample_command
from objectives.data import _sample_data as sample
from objectives.data import _sample_sentences as sample_sentences
from objectives.data import _sample_templates as content
from objectives.data._dataset import read_dataset
from objectives.data._labels import KLUE_RELATIONS, NO_RELATION, klue_labels

SMALL = {"train": 240, "dev": 80, "test": 80}
RELATIONS = [name for name in KLUE_RELATIONS if name != NO_RELATION]

# What KLUE pairs with each relation, written out independently of the generator.
EXPECTED_TYPES = {
    "org:dissolved": ("ORG", "DAT"),
    "org:founded": ("ORG", "DAT"),
    "org:place_of_headquarters": ("ORG", "LOC"),
    "org:alternate_names": ("ORG", "ORG"),
    "org:member_of": ("ORG", "ORG"),
    "org:members": ("ORG", "ORG"),
    "org:political/religious_affiliation": ("ORG", "ORG"),
    "org:product": ("ORG", "POH"),
    "org:founded_by": ("ORG", "PER"),
    "org:top_members/employees": ("ORG", "PER"),
    "org:number_of_employees/members": ("ORG", "NOH"),
    "per:date_of_birth": ("PER", "DAT"),
    "per:date_of_death": ("PER", "DAT"),
    "per:place_of_birth": ("PER", "LOC"),
    "per:place_of_death": ("PER", "LOC"),
    "per:place_of_residence": ("PER", "LOC"),
    "per:origin": ("PER", "LOC"),
    "per:employee_of": ("PER", "ORG"),
    "per:schools_attended": ("PER", "ORG"),
    "per:alternate_names": ("PER", "PER"),
    "per:parents": ("PER", "PER"),
    "per:children": ("PER", "PER"),
    "per:siblings": ("PER", "PER"),
    "per:spouse": ("PER", "PER"),
    "per:other_family": ("PER", "PER"),
    "per:colleagues": ("PER", "PER"),
    "per:product": ("PER", "POH"),
    "per:religion": ("PER", "ORG"),
    "per:title": ("PER", "POH"),
}


@pytest.fixture(scope="module")
def records():
    return sample.generate_detailed()


@pytest.fixture(scope="module")
def splits(records):
    return {split: [r.example for r in rows] for split, rows in records.items()}


@pytest.fixture(scope="module")
def written(splits, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    sample.write_sample(out, splits)
    return out


def _all(splits):
    return [ex for rows in splits.values() for ex in rows]


def _types(ex):
    return ex.subject.type, ex.object.type


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_writes_the_same_bytes_in_another_process(tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    sample.write_sample(here, sample.generate(7, SMALL))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    sizes = [f"--{split}={n}" for split, n in SMALL.items()]
    command = [sys.executable, "-m", "objectives.sample", "--out", str(there), "--seed", "7"]
    subprocess.run([*command, *sizes], check=True, env=env, capture_output=True)
    for name in sample.SAMPLE_FILES:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name


def test_another_seed_gives_other_data():
    a, b = sample.generate(7, SMALL), sample.generate(8, SMALL)
    assert [ex.sentence for ex in a["train"]] != [ex.sentence for ex in b["train"]]


def test_cli_writes_what_generate_returns_and_prints_a_summary(tmp_path, capsys):
    sizes = [f"--{split}={n}" for split, n in SMALL.items()]
    assert sample_command.main(["--out", str(tmp_path / "cli"), "--seed", "7", *sizes]) == 0
    sample.write_sample(tmp_path / "api", sample.generate(7, SMALL))
    for name in sample.SAMPLE_FILES:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes()
    printed = capsys.readouterr().out
    assert "train    240 examples" in printed and "train tail:" in printed


def test_generation_does_not_touch_the_global_rng():
    import random

    random.seed(99)
    expected = random.random()
    random.seed(99)
    sample.generate(3, {"train": 50, "dev": 10, "test": 10})
    assert random.random() == expected


# --- labels and types ----------------------------------------------------------------------------


def test_default_sizes_and_every_relation_and_type_present(splits):
    assert {split: len(rows) for split, rows in splits.items()} == dict(sample.DEFAULT_SIZES)
    train = Counter(ex.label for ex in splits["train"])
    assert set(train) == set(KLUE_RELATIONS)
    assert min(train[name] for name in RELATIONS) >= 4
    assert len(set(ex.label for ex in splits["dev"]) - {NO_RELATION}) >= 25
    types = {t for ex in _all(splits) for t in _types(ex)}
    assert types == {"PER", "ORG", "LOC", "DAT", "POH", "NOH"}


def test_klue_like_imbalance(splits):
    for rows in splits.values():
        share = sum(ex.label == NO_RELATION for ex in rows) / len(rows)
        assert 0.25 <= share <= 0.4
    counts = Counter(ex.label for ex in splits["train"])
    n = len(splits["train"])
    rare = [name for name in RELATIONS if counts[name] / n < 0.01]
    assert len(rare) >= 5
    big = ["org:top_members/employees", "per:employee_of", "per:title", "org:member_of"]
    assert all(counts[name] / n > 0.04 for name in big)
    for name in ("per:place_of_death", "org:dissolved", "per:religion"):
        assert name in rare


def test_entity_types_fit_the_relation(records):
    for rows in records.values():
        for record in rows:
            if record.clean_label != NO_RELATION:
                assert _types(record.example) == EXPECTED_TYPES[record.clean_label], record


def test_label_counts_sum_and_respect_the_minimum():
    counts = sample.label_counts(2400, minimum=6)
    assert sum(counts.values()) == 2400
    assert min(counts[name] for name in RELATIONS) == 6
    assert sum(sample.label_counts(37).values()) == 37


def test_label_noise_only_in_train(records):
    for split in ("dev", "test"):
        assert all(r.example.label == r.clean_label for r in records[split])
    train = records["train"]
    flipped = [r for r in train if r.example.label != r.clean_label]
    assert len(flipped) == round(0.03 * len(train))


def test_noise_changes_labels_and_nothing_else():
    noisy = sample.generate_detailed(5, SMALL)
    clean = sample.generate_detailed(5, SMALL, noise=0.0)
    for split in sample.SPLITS:
        cleaned = [replace(r.example, label=r.clean_label) for r in noisy[split]]
        assert cleaned == [r.example for r in clean[split]]


# --- sentences and offsets -----------------------------------------------------------------------


def test_offsets_are_exact(splits):
    for ex in _all(splits):
        for entity in (ex.subject, ex.object):
            assert ex.sentence[entity.start : entity.end + 1] == entity.word, ex
        assert ex.subject.end < ex.object.start or ex.object.end < ex.subject.start


def test_ids_unique_and_no_sentence_shared_between_splits(splits):
    ids = [ex.id for ex in _all(splits)]
    assert len(ids) == len(set(ids))
    sentences = [ex.sentence for ex in _all(splits)]
    assert len(sentences) == len(set(sentences))


def test_lengths_are_spread(splits):
    rows = splits["train"]
    lengths = [len(ex.sentence) for ex in rows]
    assert sum(n > 200 for n in lengths) / len(rows) >= 0.08
    assert sum(n < 80 for n in lengths) / len(rows) >= 0.4
    # Entities a 128-token window would cut off (at ~1.5-2 characters per token).
    late = [ex for ex in rows if max(ex.subject.end, ex.object.end) > 260]
    assert 0.04 <= len(late) / len(rows) <= 0.2


def test_hard_negatives_exist_and_look_like_positives(records):
    positive_types = {
        _types(r.example) for r in records["train"] if r.kind == sample_sentences.POSITIVE
    }
    cues = ("태어", "출신", "소속", "멤버", "결혼", "아들", "딸", "설립", "본사", "대표", "신자")
    for rows in records.values():
        negatives = [r for r in rows if r.clean_label == NO_RELATION]
        kinds = Counter(r.kind for r in negatives)
        assert kinds[sample_sentences.CROSS_PAIR] >= 0.2 * len(negatives)
        assert kinds[sample_sentences.TRAP] >= 0.1 * len(negatives)
        hard = [
            r for r in negatives if r.kind in (sample_sentences.CROSS_PAIR, sample_sentences.TRAP)
        ]
        assert all(_types(r.example) in positive_types for r in hard)
        with_cue = [r for r in hard if any(cue in r.example.sentence for cue in cues)]
        assert len(with_cue) >= 0.5 * len(hard)


def test_sources_are_klue_sources(splits):
    sources = Counter(ex.source for ex in _all(splits))
    assert set(sources) == {"wikipedia", "wikitree", "policy_briefing"}


# --- files ---------------------------------------------------------------------------------------


def test_json_is_klue_format(written, splits):
    rows = json.loads((written / "dev.json").read_text(encoding="utf-8"))
    assert len(rows) == len(splits["dev"])
    first, ex = rows[0], splits["dev"][0]
    assert list(first) == ["guid", "sentence", "subject_entity", "object_entity", "label", "source"]
    assert first["guid"] == ex.id
    assert first["object_entity"] == {
        "word": ex.object.word,
        "start_idx": ex.object.start,
        "end_idx": ex.object.end,
        "type": ex.object.type,
    }


def test_csv_entities_are_python_dict_literals(written, splits):
    with (written / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "sentence", "subject_entity", "object_entity", "label", "source"]
    assert [row["id"] for row in rows] == [str(i) for i in range(len(splits["train"]))]
    for row, ex in zip(rows, splits["train"], strict=True):
        subject = ast.literal_eval(row["subject_entity"])
        assert list(subject) == ["word", "start_idx", "end_idx", "type"]
        assert subject == {
            "word": ex.subject.word,
            "start_idx": ex.subject.start,
            "end_idx": ex.subject.end,
            "type": ex.subject.type,
        }
        assert ast.literal_eval(row["object_entity"])["word"] == ex.object.word
        assert row["sentence"] == ex.sentence and row["label"] == ex.label
    assert rows[0]["subject_entity"].startswith("{'word': '")


def test_read_dataset_reads_json_and_csv_into_the_same_examples(written, splits):
    for split in ("dev", "test"):
        from_json = read_dataset(written / f"{split}.json", klue_labels())
        from_csv = read_dataset(written / f"{split}.csv", klue_labels())
        assert from_json.repaired == from_csv.repaired == 0
        assert list(from_json.examples) == splits[split]
        # CSV ids are row numbers; everything else must agree.
        assert [replace(ex, id="") for ex in from_csv.examples] == [
            replace(ex, id="") for ex in splits[split]
        ]


# --- the cache -----------------------------------------------------------------------------------


def test_ensure_sample_data_generates_once(tmp_path, monkeypatch, splits, written):
    seeds = []
    monkeypatch.setattr(sample, "generate", lambda seed: seeds.append(seed) or splits)
    monkeypatch.setenv("RE_SEARCH_CACHE", str(tmp_path))
    first = sample.ensure_sample_data()
    assert first == tmp_path / "sample-13-v1"
    assert seeds == [13]
    for name in sample.SAMPLE_FILES:
        assert (first / name).read_bytes() == (written / name).read_bytes()
    stamps = {name: (first / name).stat().st_mtime_ns for name in sample.SAMPLE_FILES}
    assert sample.ensure_sample_data(tmp_path) == first
    assert seeds == [13]  # not generated again
    assert stamps == {name: (first / name).stat().st_mtime_ns for name in sample.SAMPLE_FILES}
    assert [p.name for p in tmp_path.iterdir()] == ["sample-13-v1"]


def test_ensure_sample_data_uses_the_winner_of_a_race(tmp_path, monkeypatch):
    small = sample.generate(13, {"train": 20, "dev": 10, "test": 10})
    monkeypatch.setattr(sample, "generate", lambda seed: small)
    real_write = sample.write_sample

    def write_then_lose_the_race(out, splits):
        real_write(tmp_path / "sample-13-v1", splits)  # another process finishes first
        (tmp_path / "sample-13-v1" / "winner").write_text("theirs")
        return real_write(out, splits)

    monkeypatch.setattr(sample, "write_sample", write_then_lose_the_race)
    target = sample.ensure_sample_data(tmp_path)
    assert (target / "winner").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["sample-13-v1"]  # temp dir removed


def test_ensure_sample_data_refuses_an_incomplete_directory(tmp_path):
    (tmp_path / "sample-13-v1").mkdir()
    (tmp_path / "sample-13-v1" / "train.json").write_text("[]")
    with pytest.raises(UserError, match="incomplete"):
        sample.ensure_sample_data(tmp_path)


# --- command line --------------------------------------------------------------------------------


def test_cli_rejects_bad_sizes_and_a_file_as_out(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        sample_command.main(["--out", str(tmp_path), "--train", "-5"])
    assert exc.value.code == 2
    assert "--train" in capsys.readouterr().err
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UserError, match="--out"):
        sample_command.main(["--out", str(a_file)])


def test_generate_rejects_unknown_splits():
    with pytest.raises(ValueError, match="validation"):
        sample.generate(sizes={"validation": 10})


# --- Korean particles and templates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "key", "expected"),
    [
        ("김민준", "은", "은"),
        ("제이", "은", "는"),
        ("서울", "으로", "로"),
        ("부산", "으로", "으로"),
        ("도쿄", "으로", "로"),
        ("KBS", "이", "가"),
        ("UN", "과", "과"),
        ("Dongbang Shipping", "은", "은"),
        ("Hanbit Telecom", "이", "이"),
        ("Hanbit Bank", "은", "는"),
        ("1,200명", "이다", "이다"),
        ("2", "을", "를"),
        ("삼성전자(Samsung Electronics)", "은", "는"),
        ("한국방송공사(KBS)", "은", "는"),
        ("《푸른 밤》", "을", "을"),
    ],
)
def test_josa(word, key, expected):
    assert content.josa(word, key) == expected


def _templates():
    relation = [t for ts in content.RELATION_TEMPLATES.values() for t in ts]
    return relation + list(content.NEUTRAL_TEMPLATES) + list(content.TRAP_TEMPLATES)


def test_templates_are_well_formed():
    slot = re.compile(r"\{(~|[A-Z]+)([가-힣]*)\}")
    for s_kind, o_kind, text in _templates():
        names = [name for name, _ in slot.findall(text)]
        assert names.count("S") == 1 and names.count("O") == 1, text
        assert s_kind in content.KIND_TYPES and o_kind in content.KIND_TYPES
        # The last syllable before 다 must not end in ㄴ: "-ㄴ다" cannot take the connective -고.
        body = slot.sub(lambda m: "가" + (content.josa("가", m[2]) if m[2] else ""), text)
        assert body.endswith("다."), text
        assert (ord(body[-3]) - ord("가")) % 28 != 4, text
    for text in [t for _, _, t in _templates()] + list(content.BACKGROUND):
        for name, key in slot.findall(text):
            assert name in ("S", "O", "~") or name in content.FILLER_KINDS, text
            assert not key or content.josa("가", key), text


def test_every_relation_has_templates_in_both_orders():
    assert set(content.RELATION_TEMPLATES) == set(RELATIONS)
    for relation, templates in content.RELATION_TEMPLATES.items():
        assert len(templates) >= 3, relation
        orders = {text.index("{S") < text.index("{O") for _, _, text in templates}
        assert orders == {True, False}, relation
        for s_kind, o_kind, _ in templates:
            types = content.KIND_TYPES[s_kind], content.KIND_TYPES[o_kind]
            assert types == EXPECTED_TYPES[relation], relation


def test_sample_files_path_constant_matches_written(written):
    assert sorted(p.name for p in Path(written).iterdir()) == sorted(sample.SAMPLE_FILES)

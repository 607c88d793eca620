"""A study stores absolute data paths and fingerprints: later commands work from any directory,
and a moved file is found by its fingerprint in a directory the user points to."""

from __future__ import annotations

import shutil
from argparse import Namespace
from pathlib import Path

import optuna
import pytest

from common._cli import UserError
from search._attrs import study_attrs
from search._retrain import read_inputs
from search.analysis._ensemble_checks import load_dev
from search.run import main as run_search
from search.testing import RUNNER
from tests.toy import write_toy_files


@pytest.fixture
def searched(tmp_path, monkeypatch):
    """A fake search run with relative --train/--dev paths from tmp_path/work."""
    work = tmp_path / "work"
    write_toy_files(work / "data")
    shutil.copy(work / "data" / "dev.json", work / "data" / "test.json")
    monkeypatch.chdir(work)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "s", "--trials", "1"]
    argv += ["--workers", "1", "--quiet", "--train", "data/train.json", "--dev", "data/dev.json"]
    assert run_search(argv) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return work, optuna.load_study(study_name="s", storage=storage)


def test_paths_are_stored_absolute_and_read_from_another_directory(searched):
    work, study = searched
    data = study_attrs(study)["data"]
    assert data["train"] == str(work / "data" / "train.json")
    assert Path(data["dev"]).is_absolute()
    train, dev, _, labels = read_inputs(
        Namespace(train=None, dev=None, test=work / "data" / "test.json"), study
    )
    assert train.fingerprint == data["fingerprint"].split("-")[0]
    assert dev is not None and dev.fingerprint == data["dev_fingerprint"]
    assert load_dev(data, None, labels).fingerprint == data["dev_fingerprint"]


def test_a_moved_file_is_found_by_fingerprint_in_a_directory(searched, tmp_path):
    work, study = searched
    moved = tmp_path / "moved"
    shutil.move(work / "data", moved)
    (moved / "notes.csv").write_text("not,data\n1,2\n", encoding="utf-8")  # skipped
    data = study_attrs(study)["data"]
    with pytest.raises(UserError) as info:
        load_dev(data, None, read_inputs_labels(study))
    assert "--dev DIR to find it there by its fingerprint" in str(info.value)
    assert load_dev(data, moved, read_inputs_labels(study)).path == str(moved / "dev.json")
    train, _, _, _ = read_inputs(Namespace(train=moved, dev=moved, test=moved / "test.json"), study)
    assert train.path == str(moved / "train.json")
    other = write_toy_files(tmp_path / "other", seed=5)[0].parent
    with pytest.raises(UserError, match="none of its 2 data files has the study's fingerprint"):
        read_inputs(Namespace(train=other, dev=None, test=moved / "test.json"), study)


def read_inputs_labels(study):
    from objectives.data._labels import LabelSet

    recorded = study_attrs(study)["data"]["labels"]
    return LabelSet(tuple(recorded["names"]), recorded["no_relation"])


def test_final_stops_when_the_no_relation_label_never_occurs(tmp_path):
    from tests.objectives.data.exports import KOREAN_DEV, KOREAN_TRAIN, records, write_jsonl

    train = write_jsonl(tmp_path / "train.jsonl", records(KOREAN_TRAIN))
    test = write_jsonl(tmp_path / "test.jsonl", records(KOREAN_DEV, "t"))
    study = optuna.create_study(directions=["maximize", "maximize"])
    study.set_user_attr("data", {"train": str(train)})  # a study that records no label set
    with pytest.raises(UserError, match="--no-relation 관계없음"):
        read_inputs(Namespace(train=None, dev=None, test=test), study)

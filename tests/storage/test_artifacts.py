"""Artifact locations: parsing, the recorded form, which one a command uses, and the one-line
errors of a location that cannot work (no server needed: nothing here reaches the network)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from common._cli import UserError
from storage._artifacts import (
    choose,
    describe,
    is_s3,
    normalize,
    open_artifact_store,
    parse_s3,
    wait_until_reachable,
)


def test_s3_locations_parse_into_bucket_and_prefix():
    assert is_s3("s3://b/p") and is_s3("S3://b") and not is_s3("/runs/s3:/x")
    assert parse_s3("s3://bucket/runs/re/") == ("bucket", "runs/re")
    assert parse_s3("s3://bucket") == ("bucket", "")
    with pytest.raises(UserError, match=r"--artifacts s3:///x: no bucket"):
        parse_s3("s3:///x")


def test_locations_are_recorded_absolute_or_as_a_clean_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert normalize("runs/artifacts") == str(tmp_path / "runs" / "artifacts")
    assert normalize(Path("/a/b")) == "/a/b"
    assert normalize("s3://bucket/runs/re/") == "s3://bucket/runs/re"
    assert normalize("s3://bucket/") == "s3://bucket"


def test_the_flag_wins_then_the_record_then_the_default():
    assert choose("s3://b/flag", "s3://b/rec", "dflt") == "s3://b/flag"
    assert choose(None, "s3://b/rec", "dflt") == "s3://b/rec"
    assert choose(None, None, Path("dflt")) == "dflt"


def test_describe_names_the_endpoint_of_an_s3_location(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio:9000")
    assert describe("s3://b/p") == "s3://b/p (endpoint http://minio:9000)"
    assert describe("/runs/artifacts") == "/runs/artifacts"


def test_a_directory_store_is_made_for_writers_and_must_exist_for_readers(tmp_path):
    store = open_artifact_store(str(tmp_path / "new"), create=True)
    store.write("x", io.BytesIO(b"1"))
    assert (tmp_path / "new" / "x").read_bytes() == b"1"
    with pytest.raises(UserError, match=r"--artifacts .*missing: no such directory"):
        open_artifact_store(str(tmp_path / "missing"))
    assert wait_until_reachable(store, window_s=0)


def test_an_s3_store_without_credentials_fails_in_one_line(monkeypatch, tmp_path):
    pytest.importorskip("boto3")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(UserError, match=r"s3://b-1/p: no AWS credentials; set AWS_ACCESS_KEY_ID"):
        open_artifact_store("s3://b-1/p")

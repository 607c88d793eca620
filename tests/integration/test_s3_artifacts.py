"""Predictions in an S3-compatible store (moto's server on 127.0.0.1), end to end.

Searches run as real processes with the fake trial and ``--artifacts s3://BUCKET/PREFIX``; the
store is reached only through the standard AWS environment variables. Covered: the upload, the
study's record of the location, the dashboard's artifact endpoint, an ensemble built from another
working directory without the flag, two workers with nothing on disk in common, and the server
stopped in the middle of a search.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search._attrs import trial_record
from search.testing import RUNNER, fake_env
from storage._artifact_names import artifact_id_of
from storage._artifacts import ARTIFACTS_ATTR
from storage._opening import open_storage
from tests.integration.conftest import S3Server, free_port, start_s3_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "re-search-test"
WAIT_S = 180


def _env(server: S3Server, seconds_per_eval: float = 0.0) -> dict[str, str]:
    """The AWS variables of ``server``; the fake trial at that many seconds per evaluation."""
    env = {**os.environ, **server.environment(), **fake_env(seconds_per_eval=seconds_per_eval)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _search(cwd: Path, *flags: str) -> list[str]:
    return [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--quiet", "--pruner", "none", "--cache-dir", str(cwd / "cache"), *flags,
    ]  # fmt: skip


def _run(server, cwd: Path, argv: list[str], timeout: float = WAIT_S) -> str:
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        argv, cwd=cwd, env=_env(server), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _complete(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    return _trials(storage, study, TrialState.COMPLETE)


def _trials(storage: str, study: str, state: TrialState) -> list[optuna.trial.FrozenTrial]:
    """The study's trials in ``state``; none while the launcher has not created it yet."""
    opened = open_storage(storage)
    try:
        study_id = opened.get_study_id_from_name(study)
    except KeyError:
        return []
    return opened.get_all_trials(study_id, deepcopy=False, states=(state,))


@pytest.fixture(scope="module")
def s3_study(s3_server, tmp_path_factory):
    """A fake search of 6 trials with --test whose predictions went to S3."""
    from objectives.data._sample_data import ensure_sample_data

    s3_server.make_bucket(BUCKET)
    root = tmp_path_factory.mktemp("s3-search")
    prefix = f"runs/{secrets.token_hex(4)}"
    location = f"s3://{BUCKET}/{prefix}"
    storage = f"sqlite:///{root / 'study.db'}"
    test = ensure_sample_data() / "test.json"
    argv = _search(root, "--storage", storage, "--study", "s", "--trials", "6")
    argv += ["--workers", "1", "--seed", "0", "--test", str(test), "--artifacts", location]
    _run(s3_server, root / "worker", argv)
    return {"storage": storage, "location": location, "prefix": prefix, "root": root}


def test_predictions_go_to_the_bucket_and_the_study_records_where(s3_server, s3_study):
    loaded = optuna.load_study(study_name="s", storage=open_storage(s3_study["storage"]))
    assert loaded.user_attrs[ARTIFACTS_ATTR] == s3_study["location"]
    complete = _complete(s3_study["storage"], "s")
    assert len(complete) == 6
    keys = s3_server.keys(BUCKET, s3_study["prefix"] + "/")
    for trial in complete:
        for attr, split in (
            ("dev_predictions_artifact", "dev"),
            ("test_predictions_artifact", "test"),
        ):
            key = object_key(keys, trial_record(trial, attr))
            # named by study, trial and split, with the artifact id kept as its unique suffix
            name = f"{s3_study['prefix']}/s-trial-{trial.number}-{split}_predictions-"
            assert key == f"{name}{trial_record(trial, attr)}.csv", key
    assert not (s3_study["root"] / "worker" / "artifacts").exists()
    assert not list((s3_study["root"]).glob("*-artifacts"))


def test_the_dashboard_serves_predictions_from_the_bucket(s3_server, s3_study, tmp_path):
    port = free_port()
    log = tmp_path / "dashboard.log"
    command = [sys.executable, "-m", "search.dashboard", "--storage", s3_study["storage"]]
    command += ["--port", str(port)]  # no --artifacts: the study's record
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=_env(s3_server), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        trial = _complete(s3_study["storage"], "s")[0]
        artifact = trial_record(trial, "dev_predictions_artifact")
        study_id = open_storage(s3_study["storage"]).get_study_id_from_name("s")
        url = f"http://127.0.0.1:{port}/artifacts/{study_id}/{trial._trial_id}/{artifact}"
        body = _fetch_when_up(url, proc, log)
        key = object_key(s3_server.keys(BUCKET, s3_study["prefix"] + "/"), artifact)
        stored = s3_server.client().get_object(Bucket=BUCKET, Key=key)
        assert body == stored["Body"].read()
        assert body.startswith(b"id,pred_label,probs")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _fetch_when_up(url: str, proc: subprocess.Popen, log: Path) -> bytes:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"search.dashboard exited with {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"search.dashboard did not answer {url}: {log.read_text()[-2000:]}")


def test_an_ensemble_elsewhere_matches_one_from_a_local_copy(s3_server, s3_study, tmp_path):
    """From a working directory that ran no trial, without --artifacts; the same ensemble from
    the predictions copied to a local directory has the same scores."""
    elsewhere = tmp_path / "laptop"
    argv = [sys.executable, "-m", "search.ensemble", "--storage", s3_study["storage"]]
    argv += ["--study", "s", "--top", "4", "--out", str(elsewhere / "out")]
    _run(s3_server, elsewhere, argv)
    from_s3 = json.loads((elsewhere / "out" / "report.json").read_text())

    copy = tmp_path / "copy"
    copy.mkdir()
    client = s3_server.client()
    for key in s3_server.keys(BUCKET, s3_study["prefix"] + "/"):
        client.download_file(BUCKET, key, str(copy / key.rsplit("/", 1)[1]))
    local = tmp_path / "local"
    _run(s3_server, local, [*argv[:-1], str(local / "out"), "--artifacts", str(copy)])
    from_dir = json.loads((local / "out" / "report.json").read_text())
    for key in ("members", "soft_vote", "greedy"):
        assert from_s3[key] == from_dir[key], key
    assert from_s3["soft_vote"]["micro_f1"] > 0


def test_two_machines_share_a_study_through_postgres_and_s3(s3_server, postgres_url, tmp_path):
    """Two workers in different directories, nothing on disk in common: the second is given
    only the storage URL and the study name, and finds the artifact store in the study."""
    bucket = f"two-{secrets.token_hex(4)}"
    s3_server.make_bucket(bucket)
    study = f"two-{secrets.token_hex(3)}"
    common = ["--storage", postgres_url, "--study", study, "--workers", "1"]
    first, second = tmp_path / "machine-a", tmp_path / "machine-b"
    _run(s3_server, first, [*_search(first, *common, "--create-only"),
                            "--artifacts", f"s3://{bucket}/a"])  # fmt: skip
    first.mkdir(exist_ok=True)
    second.mkdir()
    a = subprocess.Popen(
        [*_search(first, *common, "--trials", "4")],
        cwd=first, env=_env(s3_server, 0.1), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    _wait_for(lambda: len(_complete(postgres_url, study)) >= 1, a)
    b = subprocess.run(
        [*_search(second, *common, "--trials", "2")],
        cwd=second, env=_env(s3_server, 0.1), capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip
    assert b.returncode == 0, b.stderr[-3000:]
    _, err = a.communicate(timeout=WAIT_S)
    assert a.returncode == 0, err[-3000:]
    complete = _complete(postgres_url, study)
    workers = {t.user_attrs["worker"] for t in complete}
    assert len(workers) == 2, workers
    keys = s3_server.keys(bucket, "a/")
    for trial in complete:
        assert object_key(keys, trial_record(trial, "dev_predictions_artifact")).startswith("a/")
    for machine in (first, second):
        assert not list(machine.rglob("*.csv")), "a prediction was written to local disk"


def _wait_for(done, proc: subprocess.Popen, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if proc.poll() is not None:
            pytest.fail(f"the worker exited early: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail("no progress in time")
        time.sleep(0.2)


def test_a_stopped_store_fails_the_trial_and_it_runs_again_when_back(tmp_path):
    """The server goes away after the first trial: the trial whose upload fails is failed with
    the store's name as its reason, the worker waits, and once the server is back the same
    parameters run again and the search finishes."""
    server = start_s3_server(tmp_path / "moto.log")
    try:
        _outage(server, tmp_path)
    finally:
        server.stop()


def _outage(server: S3Server, tmp_path: Path) -> None:
    server.make_bucket(BUCKET)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = _search(tmp_path, "--storage", storage, "--study", "o", "--trials", "6")
    argv += ["--workers", "1", "--artifacts", f"s3://{BUCKET}/o"]
    worker = subprocess.Popen(
        argv, cwd=tmp_path, env=_env(server, 0.2), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    _wait_for(lambda: len(_complete(storage, "o")) >= 1, worker)
    server.stop()
    _wait_for(lambda: _failed(storage, "o"), worker)
    server.start()
    server.make_bucket(BUCKET)
    _, err = worker.communicate(timeout=WAIT_S)
    assert worker.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]  # the failed upload: one line with its reason
    assert any("unreachable" in line for line in err.splitlines()), err[-3000:]
    failed = _failed(storage, "o")
    reason = failed[0].user_attrs["fail_reason"]
    assert f"s3://{BUCKET}/o" in reason and "unreachable" in reason, reason
    assert server.endpoint in reason
    complete = _complete(storage, "o")
    assert len(complete) == 6
    retried = [t for t in complete if t.system_attrs.get("failed_trial") == failed[0].number]
    assert retried and retried[0].params == failed[0].params
    object_key(server.keys(BUCKET, "o/"), trial_record(retried[0], "dev_predictions_artifact"))


def object_key(keys: list[str], artifact_id: str) -> str:
    """The one key in ``keys`` that stores ``artifact_id``."""
    (key,) = [k for k in keys if artifact_id_of(k.rsplit("/", 1)[-1]) == artifact_id]
    return key


def _failed(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    return _trials(storage, study, TrialState.FAIL)

"""Predictions in an S3-compatible store against a directory, side by side in one run.

    python bench/s3_artifacts.py [--trials 24] [--workers 4]

Starts moto's S3-compatible server (``moto[server]``, the dev extras) on 127.0.0.1, then:

1. runs the default search (tiny model, sample data) with WORKERS worker processes twice, in
   fresh directories: predictions in S3, then in a directory. For each, the share of the
   workers' time outside training and evaluation (``bench/overhead.py``'s measure, which counts
   every upload; goal < 3%).
2. times one stored prediction file written again to each store (median of 20), against the
   mean trial's wall time.
3. builds ``search.ensemble`` of the S3 study's top trials from a new working directory that ran
   no trial, without ``--artifacts`` (the study's record), and the same ensemble from a local
   copy of the bucket: the scores must be equal.

Saves ``bench/results/s3_artifacts.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import boto3
import harness
import optuna
from overhead import run_default

from common._cli import quiet_libraries
from storage._artifacts import open_artifact_store
from storage._urls import open_storage

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "re-search-bench"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def start_server(log: Path) -> tuple[subprocess.Popen, str]:
    """moto's server on a free local port; returns the process and its endpoint once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"moto server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(endpoint, timeout=2):
                return proc, endpoint
        except urllib.error.HTTPError:
            return proc, endpoint
        except OSError:
            time.sleep(0.2)


def ensemble(storage: str, study: str, cwd: Path, env: dict, *flags: str) -> dict:
    cwd.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "search.ensemble", "--storage", storage, "--study", study]
    command += ["--top", "4", "--out", str(cwd / "out"), *flags]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"search.ensemble failed: {done.stderr[-2000:]}")
    report = json.loads((cwd / "out" / "report.json").read_text(encoding="utf-8"))
    return {"soft_vote": report["soft_vote"], "greedy": report["greedy"]}


def copy_bucket(client, prefix: str, target: Path) -> int:
    target.mkdir(parents=True)
    keys = [
        obj["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        for obj in page.get("Contents", [])
    ]
    for key in keys:
        client.download_file(BUCKET, key, str(target / key.rsplit("/", 1)[1]))
    return len(keys)


def upload_costs(client, endpoint: str, tmp: Path, s3: dict, repeats: int = 20) -> dict:
    """One stored prediction file written again ``repeats`` times to each store: the median
    seconds an upload takes, and two uploads (dev and test) against the mean trial's wall time
    in the S3 search."""
    key = next(iter(client.list_objects_v2(Bucket=BUCKET, Prefix="bench/")["Contents"]))["Key"]
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    os.environ.update({**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint})
    stores = {
        "s3": open_artifact_store(f"s3://{BUCKET}/timing"),
        "directory": open_artifact_store(str(tmp / "timing"), create=True),
    }
    result: dict = {"bytes": len(body)}
    for name, store in stores.items():
        times = []
        for i in range(repeats):
            started = time.perf_counter()
            store.write(f"timing-{i}", io.BytesIO(body))
            times.append(time.perf_counter() - started)
        result[f"{name}_median_s"] = round(statistics.median(times), 5)
    trial_s = s3["worker_wall_s"] / s3["trials"]
    result["mean_trial_s"] = round(trial_s, 2)
    result["two_s3_uploads_share_of_a_trial"] = round(2 * result["s3_median_s"] / trial_s, 5)
    return result


def measure(trials: int, workers: int, tmp: Path) -> dict:
    proc, endpoint = start_server(tmp / "moto.log")
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": str(ROOT)}
    try:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
        client.create_bucket(Bucket=BUCKET)
        flags = ("--workers", str(workers))
        s3_dir = tmp / "s3"
        s3_dir.mkdir()
        location = f"s3://{BUCKET}/bench"
        s3 = run_default(trials, s3_dir, (*flags, "--artifacts", location), env)
        print(json.dumps({"s3": s3}), flush=True)
        local_dir = tmp / "directory"
        local_dir.mkdir()
        local = run_default(trials, local_dir, flags, env)
        print(json.dumps({"directory": local}), flush=True)
        storage = f"sqlite:///{s3_dir / 'searches.db'}"
        study = optuna.get_all_study_names(open_storage(storage))[0]
        from_s3 = ensemble(storage, study, tmp / "elsewhere", env)
        copied = copy_bucket(client, "bench/", tmp / "copy")
        from_copy = ensemble(storage, study, tmp / "copied", env, "--artifacts", str(tmp / "copy"))
        uploads = upload_costs(client, endpoint, tmp, s3)
    finally:
        proc.terminate()
        proc.wait()
    return {
        "trials": trials,
        "workers": workers,
        "s3": s3,
        "directory": local,
        "overhead_share": {"s3": s3["overhead_share"], "directory": local["overhead_share"]},
        "goal": 0.03,
        "met": s3["overhead_share"] < 0.03,
        "uploads": uploads,
        "ensemble": {
            "objects_in_bucket": copied,
            "from_s3_elsewhere": from_s3,
            "from_a_local_copy": from_copy,
            "equal": from_s3 == from_copy,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/s3_artifacts.py")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    quiet_libraries()
    load_start = harness.load_average()
    with tempfile.TemporaryDirectory(prefix="s3-artifacts-") as tmp:
        result = measure(args.trials, args.workers, Path(tmp))
    result["machine"] = harness.machine_record(load_start)
    share = result["overhead_share"]
    vote = result["ensemble"]["from_s3_elsewhere"]["soft_vote"]
    uploads = result["uploads"]
    print(
        f"service overhead with {args.workers} workers: S3 {share['s3']:.2%}, directory "
        f"{share['directory']:.2%} (goal < 3%); an upload of {uploads['bytes']} bytes: S3 "
        f"{uploads['s3_median_s'] * 1000:.1f} ms, directory "
        f"{uploads['directory_median_s'] * 1000:.1f} ms; ensemble from elsewhere micro-F1 "
        f"{vote['micro_f1']:.2f}, equal to a local copy's: {result['ensemble']['equal']}"
    )
    out = harness.save_result(harness.RESULTS / "s3_artifacts.json", result)
    harness.print_closing(result["machine"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

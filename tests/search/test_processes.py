"""What a worker stopped by a full disk tells its launcher, on a pipe rather than its log."""

import os

from search._processes import REPORT_ENV, WorkerPool, report_stop


def test_a_stopped_workers_error_and_left_trials_reach_the_launcher(monkeypatch):
    read, write = os.pipe()
    os.set_blocking(read, False)
    monkeypatch.setenv(REPORT_ENV, str(write))
    report_stop("error: the disk is full", {7: "storage: the disk is full\nsecond line"})
    os.close(write)
    pool = WorkerPool.__new__(WorkerPool)  # the launcher's side, without starting processes
    pool.reports, pool.messages = [(1, read)], []
    assert pool.left_running() == {7: "storage: the disk is full\nsecond line"}
    assert pool.left_running() == {7: "storage: the disk is full\nsecond line"}  # read once
    assert [m for slot, m in pool.messages if slot == 1 and "error" in m] == [
        {"error": "error: the disk is full"}
    ]
    os.close(read)


def test_a_worker_started_by_hand_reports_nothing(monkeypatch):
    written = []
    monkeypatch.setattr(os, "write", lambda fd, data: written.append((fd, data)))
    monkeypatch.delenv(REPORT_ENV, raising=False)
    report_stop("error: the disk is full", {7: "storage: the disk is full"})  # no pipe: no-op
    assert written == []
    monkeypatch.setenv(REPORT_ENV, "12345")  # with one, the same call writes to it
    report_stop("error: the disk is full", {7: "storage: the disk is full"})
    assert [fd for fd, _ in written] == [12345]


def test_a_worker_started_again_keeps_its_launchers_timeout(monkeypatch, tmp_path):
    import json
    import time

    from search._processes import DEADLINE_ENV, TARGET_ENV, worker_config

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"plan": {"timeout": 600.0}}), encoding="utf-8")
    monkeypatch.setenv(TARGET_ENV, "4:abc")
    monkeypatch.setenv(DEADLINE_ENV, repr(time.time() + 100))
    seen = {}
    monkeypatch.setattr(
        "search._processes.SearchConfig.from_json", lambda data: seen.setdefault("data", data)
    )
    worker_config(str(path))
    assert 90 < seen["data"]["plan"]["timeout"] <= 100

"""``search.proxy``: workers reach Postgres through Optuna's gRPC storage proxy."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from common._cli import UserError, run_main
from search import proxy
from search import run as search_run
from search._attrs import BASELINE_ORIGIN, ORIGIN
from search._study import FINISHED
from search.testing import RUNNER, fake_env
from storage._opening import open_storage

pytestmark = pytest.mark.integration
pytest.importorskip("grpc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_password(url: str) -> str:
    """Postgres here trusts local users, so any password works; it must never be printed."""
    return url.replace("postgres@", "postgres:hunter2@", 1)


def wait_for_proxy(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("the proxy never listened")


def test_workers_share_postgres_through_the_proxy(postgres_url, tmp_path):
    port = free_port()
    url = with_password(postgres_url)
    cmd = [sys.executable, "-m", "search.proxy", "--storage", url, "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_proxy(port, server)
        search = subprocess.run(
            [
                sys.executable, "-m", "search.run", "--runner", RUNNER,
                "--storage", f"grpc://127.0.0.1:{port}", "--study", "proxied",
                "--trials", "6", "--workers", "2", "--quiet",
                "--artifacts", str(tmp_path / "artifacts"),
            ],
            capture_output=True, text=True, timeout=300, env=fake_env(seconds_per_eval=0.05),
        )  # fmt: skip
        assert search.returncode == 0, search.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 128 + signal.SIGTERM
    assert "hunter2" not in err
    assert "serving postgresql://postgres:***@" in err and f"on grpc://127.0.0.1:{port}" in err
    storage = open_storage(postgres_url, heartbeat_interval=None, pool_size=1)
    trials = optuna.load_study(study_name="proxied", storage=storage).get_trials()
    storage.engine.dispose()
    assert sum(t.state in FINISHED for t in trials) == 6  # the proxy's study lock: exactly 6
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.FAIL)]


def test_launchers_together_through_the_proxy_finish_exactly_the_trials_asked(
    postgres_url, tmp_path
):
    """Two launchers of two workers each, started at once on a new study through one proxy: the
    proxy's study lock serialises the study's creation and every trial's start, so each adds
    exactly the 4 finished trials it asked for, and the enqueued trial (the KLUE recipe, enqueued
    once) runs once."""
    port = free_port()
    cmd = [sys.executable, "-m", "search.proxy", "--storage", postgres_url, "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    launch = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", f"grpc://127.0.0.1:{port}", "--study", "together",
        "--trials", "4", "--workers", "2", "--quiet",
    ]  # fmt: skip
    env = fake_env(seconds_per_eval=0.02)
    try:
        wait_for_proxy(port, server)
        launchers = [
            subprocess.Popen(
                [*launch, "--artifacts", str(tmp_path / "artifacts"), "--worker-logs", "-"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(2)
        ]
        outcomes = [launcher.communicate(timeout=600) for launcher in launchers]
        for launcher, (_, err) in zip(launchers, outcomes, strict=True):
            assert launcher.returncode == 0, err
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    storage = open_storage(postgres_url, heartbeat_interval=None, pool_size=1)
    trials = optuna.load_study(study_name="together", storage=storage).get_trials()
    storage.engine.dispose()
    assert sum(t.state in FINISHED for t in trials) == 8
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    recipe = [t for t in trials if t.user_attrs.get(ORIGIN) == BASELINE_ORIGIN]
    assert len(recipe) == 1 and recipe[0].state in FINISHED
    assert len({t.user_attrs["worker"] for t in trials}) >= 2


def _exit_line(main, argv, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        run_main(main, argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_an_unreachable_proxy_is_one_line_exit_2(capsys):
    argv = ["--runner", RUNNER, "--storage", f"grpc://127.0.0.1:{free_port()}", "--study", "x"]
    err = _exit_line(search_run.main, argv, capsys)
    assert "no gRPC storage proxy answered" in err


def test_a_port_in_use_is_one_line_exit_2(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["--storage", f"sqlite:///{tmp_path / 's.db'}", "--port", str(port)]
        err = _exit_line(proxy.main, argv, capsys)
    assert err == f"error: --port {port}: already in use on 127.0.0.1\n"
    assert not (tmp_path / "s.db").exists()  # checked before the database is touched


@pytest.mark.parametrize(
    ("storage", "named"),
    [
        ("journal:///x.log", "not journal-file"),
        ("redis://:hunter2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ],
)
def test_the_proxy_serves_only_relational_databases(storage, named):
    with pytest.raises(UserError, match="the gRPC proxy serves sqlite") as info:
        proxy.main(["--storage", storage, "--port", str(free_port())])
    assert named in str(info.value) and "hunter2" not in str(info.value)


def _start_proxy(url: str, port: int, log) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "search.proxy", "--storage", url, "--port", str(port)]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)


def test_a_proxy_killed_and_restarted_mid_search_loses_nothing(postgres_url, tmp_path):
    """kill -9 the proxy while trials run, start it again on its port 3 s later: the workers
    and the launcher wait for it as for a restarted database; no traceback, nothing RUNNING."""
    port = free_port()
    log = open(tmp_path / "proxy.log", "w")  # noqa: SIM115 (closed below)
    server = _start_proxy(postgres_url, port, log)
    launch = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", f"grpc://127.0.0.1:{port}", "--study", "restarted",
        "--trials", "6", "--workers", "2", "--quiet", "--worker-logs", "-",
        "--artifacts", str(tmp_path / "artifacts"),
    ]  # fmt: skip
    env = fake_env(seconds_per_eval=0.3)
    storage = open_storage(postgres_url, heartbeat_interval=None, pool_size=1)
    try:
        wait_for_proxy(port, server)
        search = subprocess.Popen(launch, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 240
        while not _running_mid_way(storage, "restarted"):
            assert search.poll() is None and time.monotonic() < deadline, search.communicate()
            time.sleep(0.2)
        server.kill()
        server.wait()
        time.sleep(3.0)  # the outage
        server = _start_proxy(postgres_url, port, log)
        _, err = search.communicate(timeout=600)
        restarted = server.poll()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    assert restarted is None, (tmp_path / "proxy.log").read_text()  # it took its port back
    assert search.returncode == 0, err
    assert "Traceback" not in err and "retrying for up to 60 s" in err
    trials = optuna.load_study(study_name="restarted", storage=storage).get_trials()
    storage.engine.dispose()
    assert sum(t.state in FINISHED for t in trials) >= 6
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


def _running_mid_way(storage, name: str) -> bool:
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return False
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return any(t.intermediate_values for t in running)

"""open_storage against real servers and processes: Postgres, Redis, 8 writers on one SQLite."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import optuna
import pytest

from common._cli import UserError
from storage._opening import open_storage

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used:UserWarning"),
]

X = optuna.distributions.FloatDistribution(0.0, 1.0)
N_WORKERS = 8
N_TRIALS = 10
POOL_SIZE = 2
# What Optuna and SQLAlchemy import on a storage's first connection (missing ones are skipped).
_LAZY_IMPORTS = (
    "optuna.storages._rdb.models",
    "alembic.command",
    "alembic.migration",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
)


def _worker(
    url: str, study_name: str, start: Barrier, error_file: str, pause: float, seed: int
) -> None:
    """One search worker: open the storage from the URL alone, wait until every worker is ready
    so that all write at once, then run its trials (its heartbeat thread writing too)."""
    try:
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = open_storage(url, heartbeat_interval=1, pool_size=POOL_SIZE)
        sampler = optuna.samplers.RandomSampler(seed=seed)  # the storage is under test, not TPE
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
        start.wait(timeout=60)

        def objective(trial: optuna.Trial) -> float:
            time.sleep(pause)
            return trial.suggest_float("x", 0.0, 1.0) ** 2

        study.optimize(objective, n_trials=N_TRIALS)
    except BaseException:
        Path(error_file).write_text(traceback.format_exc())
        raise


def _run_workers(
    url: str,
    study_name: str,
    workdir: Path,
    *,
    pause: float = 0.0,
    on_tick: Callable[[], None] = lambda: None,
    deadline_s: float = 120.0,
) -> list[str]:
    """Run N_WORKERS processes on ``url`` released together; return the failures, if any.

    The processes fork from a server that imported optuna once (8 fresh interpreters importing
    it would dominate the test's time on a small machine), but each opens its own storage.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, *_LAZY_IMPORTS])
    start = context.Barrier(N_WORKERS + 1)
    errors = [workdir / f"worker-{i}.err" for i in range(N_WORKERS)]
    procs = [
        context.Process(target=_worker, args=(url, study_name, start, str(errors[i]), pause, i))
        for i in range(N_WORKERS)
    ]
    for proc in procs:
        proc.start()
    limit = time.monotonic() + deadline_s
    try:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=deadline_s)
        while any(p.is_alive() for p in procs) and time.monotonic() < limit:
            on_tick()
            time.sleep(0.05)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()
    return [
        f"worker {i} exit {p.exitcode}: {e.read_text() if e.exists() else ''}"
        for i, (p, e) in enumerate(zip(procs, errors, strict=True))
        if p.exitcode != 0
    ]


def _count_states(url: str, study_name: str) -> dict[str, int]:
    storage = open_storage(url, heartbeat_interval=None)
    trials = optuna.load_study(study_name=study_name, storage=storage).get_trials()
    _dispose(storage)
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def _dispose(storage: optuna.storages.BaseStorage) -> None:
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()


def _round_trip(url: str, study_name: str) -> None:
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name=study_name)
    trial = study.ask({"x": X})
    study.tell(trial, 0.25)
    again = open_storage(url)
    loaded = optuna.load_study(storage=again, study_name=study_name)
    assert [(t.state, t.value) for t in loaded.trials] == [(optuna.trial.TrialState.COMPLETE, 0.25)]
    _dispose(storage)
    _dispose(again)


def test_postgres_round_trip_with_psycopg_pool_and_pre_ping(postgres_url: str) -> None:
    _round_trip(postgres_url, "pg-round-trip")
    storage = open_storage(postgres_url, pool_size=3)
    assert storage.engine.url.drivername == "postgresql+psycopg"
    assert storage.engine.pool.size() == 3
    assert storage.engine.pool._pre_ping
    assert storage.get_heartbeat_interval() == 60
    storage.engine.dispose()


def test_redis_round_trip_stays_under_its_key_prefix(redis_url: str) -> None:
    import redis

    _round_trip(redis_url, "redis-round-trip")
    base, prefix = redis_url.split("?prefix=")
    client = redis.Redis.from_url(base)
    assert client.exists(f"{prefix}:log_number")
    assert not client.exists(":log_number")  # nothing written under the default, empty prefix
    client.close()


def test_missing_postgres_database_is_a_masked_user_error(postgres_url: str) -> None:
    missing = postgres_url.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter2@")
    with pytest.raises(UserError, match="does not exist") as info:
        open_storage(f"{missing}/re_search_no_such_db")
    assert "hunter2" not in str(info.value) and "postgres:***@" in str(info.value)


def test_eight_processes_share_one_sqlite_file_without_lock_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    storage = open_storage(url)
    optuna.create_study(storage=storage, study_name="crowd")
    storage.engine.dispose()
    failures = _run_workers(url, "crowd", tmp_path)
    assert not failures, "\n".join(failures)
    assert _count_states(url, "crowd") == {"COMPLETE": N_WORKERS * N_TRIALS}


def test_eight_workers_stay_within_their_connection_pools(
    postgres_url: str, postgres_admin, tmp_path: Path
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    storage = open_storage(postgres_url)
    optuna.create_study(storage=storage, study_name="pool")
    storage.engine.dispose()
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
    seen: list[int] = []

    def sample() -> None:
        seen.append(postgres_admin.execute(query, (database,)).fetchone()[0])

    # A closed connection's server process lingers briefly; count from a quiet database.
    quiet_by = time.monotonic() + 5
    while postgres_admin.execute(query, (database,)).fetchone()[0] and time.monotonic() < quiet_by:
        time.sleep(0.05)
    baseline = postgres_admin.execute(query, (database,)).fetchone()[0]
    failures = _run_workers(postgres_url, "pool", tmp_path, pause=0.05, on_tick=sample)
    assert not failures, "\n".join(failures)
    assert _count_states(postgres_url, "pool") == {"COMPLETE": N_WORKERS * N_TRIALS}
    max_connections = int(postgres_admin.execute("SHOW max_connections").fetchone()[0])
    peak = max(seen) - baseline
    assert peak >= N_WORKERS, f"sampling never saw the workers connected: {seen}"
    # Main thread + heartbeat thread per worker; the pool never grows past its overflow.
    assert peak <= N_WORKERS * POOL_SIZE < max_connections, f"baseline {baseline}, seen {seen}"


def test_pre_ping_survives_terminated_backends(postgres_url: str, postgres_admin) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    storage = open_storage(postgres_url)
    study = optuna.create_study(storage=storage, study_name="restart")
    study.tell(study.ask({"x": X}), 1.0)
    killed = postgres_admin.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    ).fetchone()[0]
    assert killed >= 1  # the storage's pooled connection really was cut
    study.tell(study.ask({"x": X}), 2.0)
    assert [t.value for t in study.get_trials()] == [1.0, 2.0]
    storage.engine.dispose()

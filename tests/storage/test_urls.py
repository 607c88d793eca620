"""storage._urls: one URL -> one Optuna storage, with one-line errors that never show a password."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from urllib.parse import quote

import optuna
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from common._cli import UserError, run_main
from storage._liveness import RetryStaleTrial
from storage._opening import check_storage, open_storage
from storage._urls import (
    artifact_dir_for,
    default_storage_url,
    file_storage_text,
    mask_url,
    storage_kind,
    supports_heartbeat,
)

X = optuna.distributions.FloatDistribution(0.0, 1.0)

pytestmark = [
    # Optuna's own note that heartbeats are beaten by Study.optimize, not by ask/tell.
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used:UserWarning"),
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
]


def _dispose(storage: optuna.storages.BaseStorage) -> None:
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()


def _round_trip(url: str) -> None:
    """Create a study, finish one trial, and read it back through a second storage object."""
    storage = open_storage(url)
    study = optuna.create_study(storage=storage, study_name="round-trip")
    trial = study.ask({"x": X})
    study.tell(trial, trial.params["x"] * 2)
    _dispose(storage)
    again = open_storage(url)
    loaded = optuna.load_study(storage=again, study_name="round-trip")
    (finished,) = loaded.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert finished.value == pytest.approx(finished.params["x"] * 2)
    _dispose(again)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("sqlite:///searches.db", "sqlite"),
        ("sqlite+pysqlite:////abs/searches.db", "sqlite"),
        ("postgresql://u:p@h:5432/db", "postgresql"),
        ("postgres://u@h/db", "postgresql"),
        ("postgresql+psycopg://u@h/db", "postgresql"),
        ("mysql+pymysql://u@h/db", "mysql"),
        ("journal:///runs/searches.log", "journal-file"),
        ("redis://127.0.0.1:6379/0", "journal-redis"),
        ("grpc://127.0.0.1:13000", "grpc"),
        ("memory:", "memory"),
        ("inmemory", "memory"),
        ("  MEMORY  ", "memory"),
    ],
)
def test_storage_kind_names_every_scheme(url: str, kind: str) -> None:
    assert storage_kind(url) == kind
    assert supports_heartbeat(url) == (kind in {"sqlite", "postgresql", "mysql"})


@pytest.mark.parametrize("url", ["ftp://host/x", "redis+x://h", "", "searches.db"])
def test_unknown_or_missing_scheme_is_a_one_line_user_error(url: str) -> None:
    with pytest.raises(UserError, match=r"^--storage.*use sqlite:///FILE\.db") as info:
        open_storage(url)
    assert "\n" not in str(info.value)


def test_unknown_scheme_is_named() -> None:
    with pytest.raises(UserError, match="unknown scheme 'ftp'"):
        storage_kind("ftp://user:secret@host/x")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql://postgres:hunter2@127.0.0.1:5999/test",
            "postgresql://postgres:***@127.0.0.1:5999/test",
        ),
        ("redis://:hunter2@127.0.0.1:6379/0?prefix=a", "redis://:***@127.0.0.1:6379/0?prefix=a"),
        ("mysql://root@h/db?password=hunter2", "mysql://root@h/db?password=***"),
        ("odd://u:hunter2@[bad", "odd://u:***@[bad"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://postgres@h/db", "postgresql://postgres@h/db"),
        ("memory:", "memory:"),
    ],
)
def test_mask_url_hides_passwords_and_leaves_the_rest(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@given(st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S")), min_size=6))
def test_mask_url_never_contains_the_password(password: str) -> None:
    url = f"postgresql://worker:{quote(password, safe='')}@db.internal:5432/searches"
    assume(password not in "postgresql://worker:***@db.internal:5432/searches")
    masked = mask_url(url)
    assert password not in masked
    assert quote(password, safe="") not in masked
    assert "***" in masked


def test_sqlite_is_wal_with_busy_timeout_and_heartbeat(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    storage = open_storage(f"sqlite:///{path}", heartbeat_interval=7, grace_period=30)
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    assert path.is_file()
    assert storage.get_heartbeat_interval() == 7
    assert storage.grace_period == 30
    retry = storage.get_heartbeat_stale_trial_callback()
    assert isinstance(retry, RetryStaleTrial)
    _dispose(storage)


def test_stale_trial_is_failed_and_retried_with_the_same_parameters(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=storage)
    trial = study.ask({"x": X})
    storage.record_heartbeat(trial._trial_id)  # then the worker "dies": no more beats
    time.sleep(2.2)  # SQLite's now() has whole seconds: more than grace_period + 1 s
    optuna.storages.fail_stale_trials(study)
    states = [t.state for t in study.get_trials()]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING]
    failed, retry = study.get_trials()
    assert retry.params == trial.params
    assert failed.user_attrs["fail_reason"] == "worker died: no heartbeat for 1 s"
    assert "fail_reason" not in retry.user_attrs
    _dispose(storage)


def test_a_running_trial_that_never_beat_is_stale_after_the_grace_period(tmp_path: Path) -> None:
    """Its worker lost the storage (or died) before its first heartbeat: no heartbeat row."""
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=storage)
    trial = study.ask({"x": X})  # no heartbeat recorded
    assert storage._get_stale_trial_ids(study._study_id) == []  # not yet a grace period old
    time.sleep(1.5)
    assert storage._get_stale_trial_ids(study._study_id) == [trial._trial_id]
    beating = study.ask({"x": X})
    storage.record_heartbeat(beating._trial_id)
    assert beating._trial_id not in storage._get_stale_trial_ids(study._study_id)
    _dispose(storage)


def test_heartbeat_can_be_switched_off(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=None)
    assert storage.get_heartbeat_interval() is None
    _dispose(storage)


@pytest.mark.parametrize("kind", ["sqlite", "journal", "memory"])
def test_study_round_trip(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if kind == "memory":
        study = optuna.create_study(storage=open_storage("memory:"))
        study.tell(study.ask({"x": X}), 0.5)
        assert [t.value for t in study.trials] == [0.5]
        return
    url = {
        "sqlite": "sqlite:///runs/s.db",
        "journal": "journal:///runs/s.log",
    }[kind]
    (tmp_path / "runs").mkdir()
    _round_trip(url)
    assert any((tmp_path / "runs").iterdir())


def test_absolute_journal_url_uses_four_slashes(tmp_path: Path) -> None:
    path = tmp_path / "s.log"
    _round_trip(f"journal:///{path}")
    assert path.stat().st_size > 0


def test_journal_url_with_a_host_is_rejected() -> None:
    with pytest.raises(UserError, match="three slashes"):
        open_storage("journal://host/s.log")


def test_missing_driver_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # import MySQLdb now fails
    with pytest.raises(UserError) as info:
        open_storage("mysql://root:hunter2@127.0.0.1/db")
    message = str(info.value)
    assert "pip install mysqlclient" in message
    assert "hunter2" not in message and "***" in message


def test_grpc_without_grpcio_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)
    with pytest.raises(UserError, match="pip install grpcio"):
        open_storage("grpc://127.0.0.1:13000")


def test_unreachable_postgres_fails_fast_without_the_password() -> None:
    started = time.perf_counter()
    with pytest.raises(UserError) as info:
        open_storage("postgresql://postgres:hunter2@127.0.0.1:1/test")
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert message.startswith(
        "--storage postgresql://postgres:***@127.0.0.1:1/test: cannot connect"
    )
    assert "hunter2" not in message and "\n" not in message


def test_unreachable_redis_fails_fast_without_the_password() -> None:
    started = time.perf_counter()
    with pytest.raises(UserError, match=r"redis://:\*\*\*@127\.0\.0\.1:1/0\?prefix=p: cannot"):
        open_storage("redis://:hunter2@127.0.0.1:1/0?prefix=p")
    assert time.perf_counter() - started < 5


def test_a_storage_error_exits_2_with_one_masked_line(capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: list[str] | None = None) -> int:
        open_storage("postgresql://postgres:hunter2@127.0.0.1:1/test")
        return 0

    with pytest.raises(SystemExit) as info:
        run_main(main, [])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --storage postgresql://postgres:***@") and err.count("\n") == 1
    assert "hunter2" not in err


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database " * 100)
    with pytest.raises(UserError, match="cannot open: file is not a database"):
        open_storage(f"sqlite:///{path}")


def test_a_malformed_server_url_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"postgresql://u:\*\*\*@h:abc/db: not a database URL"):
        open_storage("postgresql://u:hunter2@h:abc/db")


def test_redis_without_the_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(UserError, match="pip install redis"):
        open_storage("redis://127.0.0.1:6379/0")


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="pool_size"):
        open_storage("memory:", pool_size=0)
    with pytest.raises(ValueError, match="positive"):
        open_storage("memory:", heartbeat_interval=0)


def test_defaults_and_artifact_dirs(tmp_path: Path) -> None:
    assert default_storage_url() == "sqlite:///searches.db"
    assert default_storage_url(tmp_path) == f"sqlite:///{tmp_path}/searches.db"
    assert storage_kind(default_storage_url(tmp_path)) == "sqlite"
    assert artifact_dir_for("sqlite:///searches.db") == Path("searches-artifacts")
    assert artifact_dir_for(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a-artifacts"
    assert artifact_dir_for("journal:///runs/s.log") == Path("runs/s-artifacts")
    assert artifact_dir_for("postgresql://u@h/db") == Path("artifacts")
    assert artifact_dir_for("sqlite:///:memory:") == Path("artifacts")
    assert artifact_dir_for("memory:") == Path("artifacts")


def test_a_bare_path_is_not_silently_a_journal() -> None:
    with pytest.raises(UserError, match=r"no scheme; for a journal file write journal:///s\.log"):
        storage_kind("s.log")


def test_a_file_that_is_not_a_journal_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.log"
    notes.write_text("meeting at 10\nbring the GPU quota numbers\n")
    before = notes.read_bytes()
    with pytest.raises(UserError, match="is not an Optuna journal") as caught:
        open_storage(f"journal:///{notes}")
    assert "\n" not in str(caught.value)
    assert notes.read_bytes() == before
    empty = tmp_path / "empty.log"
    empty.touch()
    _round_trip(f"journal:///{empty}")  # an empty file is a new journal
    open_storage(f"journal:///{empty}")  # and then a journal


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_a_file_storage_in_a_missing_folder_is_refused_and_not_created(tmp_path, scheme):
    folder = tmp_path / "nonexistent" / "dir"
    url = f"{scheme}:///{folder / 'x.db'}"  # absolute: four slashes
    for opening in (check_storage, open_storage):
        with pytest.raises(UserError, match=f"the folder {folder} does not exist; create it"):
            opening(url)
    assert not (tmp_path / "nonexistent").exists()


def test_three_slashes_are_relative_and_the_message_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as raised:
        check_storage("journal:///srv/x.log")
    assert f"the folder {tmp_path / 'srv'} does not exist" in str(raised.value)
    assert "four slashes: journal:////srv/x.log" in str(raised.value)
    assert not (tmp_path / "srv").exists()


def test_a_file_storage_is_shown_with_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert file_storage_text("sqlite:///x.db") == f"sqlite:///x.db ({tmp_path / 'x.db'})"
    assert file_storage_text("journal:////srv/x.log") == "journal:////srv/x.log (/srv/x.log)"
    assert file_storage_text("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"

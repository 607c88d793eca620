"""The study lock that ``search.proxy`` serves to its gRPC clients (``storage._grpc_lock``)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

grpc = pytest.importorskip("grpc")

from storage._grpc_lock import LockTable, grpc_lock, lock_handler  # noqa: E402


@pytest.fixture
def lock_server():
    """A gRPC server with the lock service only; yields its port."""
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((lock_handler(LockTable()),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None)


def test_the_lock_admits_one_holder_at_a_time(lock_server):
    inside, most, lock = [0], [0], threading.Lock()

    def hold():
        for _ in range(5):
            with grpc_lock("127.0.0.1", lock_server, "study:s"):
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.005)
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_locks_of_other_names_do_not_wait_for_each_other(lock_server):
    other_taken, same_taken = threading.Event(), threading.Event()

    def take(name: str, taken: threading.Event) -> None:
        with grpc_lock("127.0.0.1", lock_server, name):
            taken.set()

    with grpc_lock("127.0.0.1", lock_server, "study:a"):
        threading.Thread(target=take, args=("b", other_taken), daemon=True).start()
        same = threading.Thread(target=take, args=("study:a", same_taken), daemon=True)
        same.start()
        assert other_taken.wait(timeout=30), "lock b waited for lock study:a"
        assert not same_taken.is_set()  # the same name does wait
    assert same_taken.wait(timeout=30)


def test_a_dead_holders_lock_expires_and_only_the_holder_releases_it():
    table = LockTable(lease_s=0.2)
    assert table.try_acquire("s", "dead")
    assert not table.try_acquire("s", "other")
    assert not table.release("s", "other")
    deadline = time.monotonic() + 30
    while not table.try_acquire("s", "other"):  # the dead holder's lease runs out
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert table.release("s", "other")


def test_a_stock_proxy_without_the_lock_runs_unlocked_with_a_warning(caplog):
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with (
            caplog.at_level(logging.WARNING, logger="storage._grpc_lock"),
            grpc_lock("127.0.0.1", port, "study:s"),
        ):
            pass
    finally:
        server.stop(grace=None)
    assert "serves no study lock" in caplog.text

"""The worker processes of one search: started, restarted in their slot, stopped together.

Each slot (a device, or a CPU share) runs ``python -m search.worker CONFIG``. The config file
holds no secret: the storage URL, which may carry a password, reaches the workers through their
environment (readable only by their owner), and the file is removed when the launcher ends. When
a worker that exits is started again, and when the search stops instead, is decided by
:mod:`search.watch`. Workers stop when their launcher dies.
A worker stopped by a full disk sends its error line, and the trial it could not fail, on a pipe
to the launcher (its log may be on that disk), which fails the trial once every worker has
stopped (:func:`fail_for_workers`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from common._files import safe_name
from search._attrs import WORKER
from search._config import Deployment, SearchConfig
from search._echo import log_file
from search._quota import Quota
from storage._artifacts import is_s3
from storage._liveness import retry_stale
from storage._locks import storage_lock
from storage._optuna import storage_of, trial_id
from storage._reserve import fail_left_running, release_reserve
from storage._urls import mask_url

log = logging.getLogger(__name__)

STORAGE_ENV = "RE_SEARCH_STORAGE"  # the storage URL, for workers
LAUNCHER_ENV = "RE_SEARCH_LAUNCHER_PID"  # workers stop when this process is gone
SLOT_ENV = "RE_SEARCH_WORKER"  # the slot's number: its sampler's seed is derived from it
TARGET_ENV = "RE_SEARCH_TARGET"  # the launcher's quota: its trials and launch id (search._quota)
REPORT_ENV = "RE_SEARCH_REPORT_FD"  # a pipe to the launcher: trials the worker could not fail
# the launcher's --timeout as a wall-clock time: a worker started again keeps the launcher's
DEADLINE_ENV = "RE_SEARCH_DEADLINE"


class WorkerPool:
    """One worker process per slot (a CUDA device index, or ``None``/``"cpu"`` for the CPU)."""

    def __init__(
        self, config: SearchConfig, target: Quota, slots: list[str | None], log_dir: Path | None
    ) -> None:
        """``target``: the finished trials this launch adds (its quota); ``log_dir``: one
        ``worker-N.log`` per slot; None: the launcher's own stderr."""
        self.config = config
        self.target = target
        self.slots = slots
        self.log_dir = log_dir
        self.stopping: int | None = None
        timeout = config.plan.timeout
        self.deadline = time.time() + timeout if timeout else None  # see DEADLINE_ENV
        self.started = [0.0] * len(slots)  # when each slot's worker started (time.monotonic)
        self.log_start = [0] * len(slots)  # where in its log each slot's worker began
        self.since = [0] * len(slots)  # where in ``messages`` each slot's worker began
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
        public = config.to_json()
        public["deployment"]["storage"] = mask_url(config.deployment.storage)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(public, f)
        self.config_path = f.name
        self.reports: list[tuple[int, int]] = []  # (slot, read end of its worker's report pipe)
        self.messages: list[tuple[int, dict]] = []  # (slot, what its worker reported)
        self.procs = [self._start(i) for i in range(len(slots))]

    def _start(self, i: int) -> subprocess.Popen:
        env = {
            **os.environ,
            SLOT_ENV: str(i),
            TARGET_ENV: self.target.to_text(),
            STORAGE_ENV: self.config.deployment.storage,
            LAUNCHER_ENV: str(os.getpid()),
        }
        device = self.slots[i]
        if device is not None:
            env["CUDA_VISIBLE_DEVICES"] = "" if device == "cpu" else device
        command = [sys.executable, "-m", "search.worker", self.config_path]
        read, write = os.pipe()
        os.set_blocking(read, False)  # a worker's forked children may hold the write end
        self.reports.append((i, read))
        env[REPORT_ENV] = str(write)
        if self.deadline is not None:
            env[DEADLINE_ENV] = repr(self.deadline)
        self.started[i] = time.monotonic()
        try:
            if self.log_dir is None:
                out = sys.stderr
                return subprocess.Popen(
                    command, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=(write,)
                )
            with open(log_file(self.log_dir, i), "a", encoding="utf-8") as log:
                self.log_start[i] = log.tell()
                return subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write,)
                )
        finally:
            os.close(write)

    def alive(self) -> bool:
        return any(p.poll() is None for p in self.procs)

    def restart(self, i: int) -> None:
        """Start slot ``i``'s worker again (its last one has exited): see :mod:`search.watch`."""
        self._read()  # what the last one reported stays with it
        self.since[i] = len(self.messages)
        self.procs[i] = self._start(i)

    def error_of(self, i: int) -> str | None:
        """The one-line error (``error: ...``) that slot ``i``'s last worker exited with."""
        lines: list[str] = []
        if self.log_dir is not None:
            with open(log_file(self.log_dir, i), encoding="utf-8", errors="replace") as log:
                log.seek(self.log_start[i])
                lines = [line for line in log.read().splitlines() if line.startswith("error: ")]
        reported = [m.get("error") for slot, m in self._read()[self.since[i] :] if slot == i]
        found = lines or [line for line in reported if line]
        return found[-1] if found else None

    def stop(self, signum: int) -> None:
        """Pass the launcher's signal on: each worker fails its running trial and exits."""
        self.stopping = signum
        self.end_workers(signum)

    def end_workers(self, signum: int = signal.SIGTERM) -> None:
        """Send ``signum`` to every running worker: each fails its running trial and exits."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    def codes(self) -> list[int | None]:
        return [p.poll() for p in self.procs]

    def last_errors(self) -> list[str]:
        """The one-line error (``error: ...``) of each worker that exited with one."""
        lines = []
        if self.log_dir is None:  # they wrote to the launcher's stderr already
            return lines
        for i, proc in enumerate(self.procs):
            if proc.poll() in (None, 0):
                continue
            log = log_file(self.log_dir, i).read_text(encoding="utf-8", errors="replace")
            errors = [line for line in log.splitlines() if line.startswith("error: ")]
            errors = errors or [
                m["error"] for slot, m in self._read() if slot == i and "error" in m
            ]
            if errors:
                lines.append(f"worker {i}: {errors[-1]}")
        return lines

    def left_running(self) -> dict[int, str]:
        """The trials (id -> fail reason) that workers stopped by a full disk could not fail.
        Read once every worker has exited."""
        return {int(m["trial"]): str(m["reason"]) for _, m in self._read() if "trial" in m}

    def _read(self) -> list[tuple[int, dict]]:
        """What the workers reported on their pipes so far (see :func:`report_stop`)."""
        for slot, fd in self.reports:
            data = b""
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(fd, 65536):
                    data += chunk
            for line in data.decode("utf-8", errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    message = json.loads(line)
                    if isinstance(message, dict):
                        self.messages.append((slot, message))
        return self.messages

    def close(self) -> None:
        Path(self.config_path).unlink(missing_ok=True)
        self._read()  # for last_errors
        for _, fd in self.reports:
            os.close(fd)
        self.reports = []


def retry_trials_of(study: optuna.Study, pid: int, reason: str) -> list[int]:
    """Fail the RUNNING trials of this machine's worker process ``pid``, which is gone, with
    ``reason`` and enqueue their parameters again (:func:`storage._liveness.retry_stale`), under
    the study's lock. Returns their numbers. A storage error leaves them to the reapers."""
    worker = f"{socket.gethostname()}:{pid}"
    retried = []
    with (
        contextlib.suppress(Exception),
        storage_lock(storage_of(study), f"study:{study.study_name}"),
    ):
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if trial.user_attrs.get(WORKER) == worker and retry_stale(study, trial, reason):
                retried.append(trial.number)
    return retried


def report_stop(error: str, trials: dict[int, str]) -> None:
    """In a worker stopped by a full disk, or by trials that keep crashing: send the launcher its
    error line and the trials it could not fail (see the module doc)."""
    fd = os.environ.get(REPORT_ENV)
    if not fd:
        return
    messages = [{"error": error}] + [{"trial": t, "reason": r} for t, r in trials.items()]
    text = "".join(json.dumps(message) + "\n" for message in messages)
    with contextlib.suppress(OSError, ValueError):
        os.write(int(fd), text.encode("utf-8"))


def fail_for_workers(study: optuna.Study, url: str, reasons: dict[int, str]) -> None:
    """Fail the trials that workers stopped by a full disk left RUNNING, with the room the
    reserve gives back (:mod:`storage._reserve`); name any that stay RUNNING."""
    if not reasons:
        return
    release_reserve(url)
    _, left = fail_left_running(storage_of(study), study.study_name, reasons)
    numbers = {trial_id(t): t.number for t in study.get_trials(deepcopy=False)}
    for left_id in left:
        number = numbers.get(left_id, left_id)
        log.error("trial %s is left RUNNING: the disk is still full", number)


def watch_launcher(interrupt: int = signal.SIGTERM) -> None:
    """In a worker: send ourselves ``interrupt`` once the launcher that started us has died (a
    SIGKILLed launcher cannot stop its workers), so the running trial fails with a reason."""
    launcher = os.environ.get(LAUNCHER_ENV)
    if not launcher:
        return

    def watch() -> None:
        while os.getppid() == int(launcher):
            time.sleep(1.0)
        os.kill(os.getpid(), interrupt)

    threading.Thread(target=watch, name="launcher-watch", daemon=True).start()


def worker_config(path: str) -> tuple[SearchConfig, Quota]:
    """A worker's config (the file the launcher wrote, with the storage URL and what is left of
    the launcher's --timeout from the environment) and its launcher's target."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if os.environ.get(STORAGE_ENV):
        data["deployment"]["storage"] = os.environ[STORAGE_ENV]
    if os.environ.get(DEADLINE_ENV) and data["plan"].get("timeout"):
        left = float(os.environ[DEADLINE_ENV]) - time.time()
        data["plan"]["timeout"] = max(left, 0.001)  # what is left of the launcher's
    return SearchConfig.from_json(data), Quota.from_text(os.environ[TARGET_ENV])


def log_dir_for(where: Deployment) -> Path | None:
    """Where worker processes log: --worker-logs DIR, or logs/STUDY beside an artifact
    directory (in the working directory for S3 artifacts); None for the launcher's stderr."""
    if where.worker_logs == "-":
        return None
    if where.worker_logs:
        log_dir = Path(where.worker_logs)
    elif where.artifacts and not is_s3(where.artifacts):
        log_dir = Path(where.artifacts).parent / "logs" / safe_name(where.study)
    else:
        log_dir = Path("logs") / safe_name(where.study)
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir

"""-v forwards the workers' log lines to the launcher's console, each prefixed with its worker;
the worker files keep them (search._echo)."""

import re
import subprocess
import sys

from search._echo import LogEcho, log_file
from search.testing import RUNNER, fake_env


def test_only_complete_new_lines_are_forwarded_with_their_worker(tmp_path):
    log_file(tmp_path, 1).write_text("an earlier run\n")
    seen: list[str] = []
    echo = LogEcho(tmp_path, 2, seen.append, enabled=True)
    with open(log_file(tmp_path, 1), "a") as f:
        f.write("trial 3 started\ntrial 3 comp")
    log_file(tmp_path, 0).write_text("trial 4 started\n")
    assert echo.poll() == 2
    assert seen == ["worker 0 | trial 4 started", "worker 1 | trial 3 started"]
    with open(log_file(tmp_path, 1), "a") as f:
        f.write("lete\n")
    assert echo.poll() == 1 and seen[-1] == "worker 1 | trial 3 complete"
    assert echo.poll() == 0


def test_nothing_is_forwarded_without_v(tmp_path):
    seen: list[str] = []
    echo = LogEcho(tmp_path, 1, seen.append, enabled=False)
    log_file(tmp_path, 0).write_text("trial 1 started\n")
    assert echo.poll() == 0 and not seen


def _search(tmp_path, *flags):
    tmp_path.mkdir(exist_ok=True)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    command = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--storage", storage,
        "--study", "v", "--trials", "4", "--workers", "2", "--seed", "0", *flags,
    ]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env=fake_env(seconds_per_eval=0.2),  # both workers get trials
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_v_shows_every_workers_trial_lines_and_the_files_keep_them(tmp_path):
    err = _search(tmp_path, "-v")
    trial_lines = re.findall(r"^worker (\d) \| .* search\.trial: trial \d+ .*$", err, re.M)
    assert set(trial_lines) <= {"0", "1"} and len(trial_lines) >= 8, err[-2000:]
    ends = [line for line in err.splitlines() if re.search(r" (complete|pruned) after ", line)]
    assert len(ends) >= 4
    for slot in (0, 1):
        kept = log_file(tmp_path / "logs" / "v", slot).read_text()
        forwarded = [line.split(" | ", 1)[1] for line in err.splitlines()
                     if line.startswith(f"worker {slot} | ")]  # fmt: skip
        assert forwarded == kept.splitlines()  # every line of each worker, in order
    quiet = _search(tmp_path / "plain")
    assert "search.trial: trial" not in quiet

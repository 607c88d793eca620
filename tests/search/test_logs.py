"""What a search writes into log files and pipes: workers log one line per trial start and end,
the launcher's progress bar one line per drawing, and no carriage return anywhere."""

import re
import subprocess
import sys

from search.testing import RUNNER, fake_env

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) search\.trial: trial (\d+) "
)


def test_a_mocked_search_logs_a_line_per_trial_and_per_drawing(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    command = [
        sys.executable, "-m", "search.run", "--runner", RUNNER, "--storage", storage,
        "--study", "logged", "--trials", "8", "--workers", "2", "--seed", "0",
    ]  # fmt: skip
    with open(tmp_path / "launcher.log", "w", encoding="utf-8") as out:  # a pipe or a file
        code = subprocess.run(command, stdout=out, stderr=out, env=fake_env(), cwd=tmp_path)
    assert code.returncode == 0, (tmp_path / "launcher.log").read_text()[-2000:]
    launcher = (tmp_path / "launcher.log").read_text()
    assert "\r" not in launcher
    drawings = [line for line in launcher.splitlines() if line.startswith("trials:")]
    counts = [re.search(r"(\d+)/8", line).group(1) for line in drawings]
    assert counts == sorted(counts, key=int) and counts[-1] == "8"
    assert len(drawings) <= 2 * 9  # one per change (count or best), not one per poll

    logs = sorted((tmp_path / "logs" / "logged").glob("worker-*.log"))
    assert len(logs) == 2
    text = "".join(log.read_text() for log in logs)
    assert "\r" not in text and "ExperimentalWarning" not in text
    starts, ends = set(), {}
    for line in text.splitlines():
        found = LINE.match(line)
        assert found, f"not a log line: {line!r}"
        number = int(found.group(2))
        if " started on " in line:
            starts.add(number)
        else:
            ends[number] = line
    assert len(starts) >= 8 and set(ends) == starts
    assert all(re.search(r" (complete|pruned|failed) after \d+\.\d s: ", e) for e in ends.values())
    assert any(" pruned after " in e and "dominated by" in e for e in ends.values())
    assert any(" complete after " in e and "micro_f1 " in e for e in ends.values())

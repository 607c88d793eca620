"""The "watch it" commands: at the start of every search and in its summary, for the storage and
artifact store the search actually uses; a note on the password only where one was masked."""

import pytest

from search._watch import MASKED_NOTE, watch_line
from search.run import main
from search.testing import RUNNER


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sqlite:///s.db", False),
        ("postgresql+psycopg://re@db:5432/re", False),  # PGPASSWORD: no password in the URL
        ("postgresql+psycopg://re:s3cret@db:5432/re", True),
        ("redis://localhost:6379/0", False),
    ],
)
def test_the_masking_note_only_where_a_password_was_masked(url, masked):
    line = watch_line(url, "s3://b/p")
    assert line.startswith("watch it: python -m search.dashboard --storage ")
    assert "--artifacts s3://b/p" in line
    assert (MASKED_NOTE in line) == masked
    assert "s3cret" not in line


def test_a_search_says_how_to_watch_it_when_it_starts_and_when_it_ends(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    artifacts = tmp_path / "preds"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "w", "--trials", "2"]
    assert main([*argv, "--workers", "1", "--artifacts", str(artifacts)]) == 0
    out, err = capsys.readouterr()
    command = f"python -m search.dashboard --storage {storage} --artifacts {artifacts}"
    lines = err.splitlines()
    starting = next(i for i, line in enumerate(lines) if "running 2 more" in line)
    start = lines[starting + 1]  # before any trial runs
    assert "watch it:" in start and command in start and "masked" not in start
    assert f"Watch it:   {command}" in out and "masked" not in out

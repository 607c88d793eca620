"""common._cli.configure_logging: third-party request chatter stays off at any project level, and
an exception the user can fix is logged as its one line."""

import io
import logging

import pytest

from common._cli import UserError, configure_logging
from storage._artifacts import ArtifactStoreUnavailable


@pytest.fixture
def lines():
    stream = io.StringIO()
    configure_logging("INFO", stream)  # a worker's level: a line per trial
    yield lambda: stream.getvalue().splitlines()
    configure_logging("WARNING")


def test_botocore_info_stays_off_at_info(lines):
    logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
    logging.getLogger("s3transfer.tasks").info("a request")
    logging.getLogger("search.worker").info("trial 1 finished")
    assert [line.split(": ", 1)[1] for line in lines()] == ["trial 1 finished"]


def test_a_user_error_logged_with_its_traceback_is_one_line(lines):
    error = ArtifactStoreUnavailable("artifact store s3://b/p unreachable: Could not connect")
    try:
        raise error
    except UserError:
        logging.getLogger("optuna").warning("Trial 3 failed: %r", error, exc_info=True)
    (line,) = lines()
    assert "unreachable: Could not connect" in line


def test_a_bug_keeps_its_traceback(lines):
    try:
        raise KeyError("x")
    except KeyError:
        logging.getLogger("optuna").warning("Trial 3 failed", exc_info=True)
    assert any("Traceback" in line for line in lines())

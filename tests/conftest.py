"""Test-wide settings: no hub access, every cache in a per-session temporary directory, and the
repository root on subprocesses' path."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# subprocesses (workers, launchers) import the fake trial as search.testing
ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(
    [ROOT, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != ROOT]]
)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Tests never read or write the user's ~/.cache; the tiny model is built once per session."""
    root = tmp_path_factory.mktemp("re-search-cache")
    previous = os.environ.get("RE_SEARCH_CACHE")
    os.environ["RE_SEARCH_CACHE"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("RE_SEARCH_CACHE", None)
    else:
        os.environ["RE_SEARCH_CACHE"] = previous


from common._cli import quiet_libraries  # noqa: E402

quiet_libraries()

"""Test-wide settings: no hub access, and every cache in a per-session temporary directory."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
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


from common.cli import quiet_libraries  # noqa: E402

quiet_libraries()

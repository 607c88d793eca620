"""The documentation site, built once per session with warnings as errors, as CI builds it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docsgen.sources import ROOT


def build_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "NO_MKDOCS_2_WARNING": "1",
    }


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """``mkdocs build --strict`` into a temporary directory; the build's output on failure."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=build_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def page_html(site: Path, docs_path: str) -> str:
    """The built HTML of the page at ``docs_path`` (as under docs/, e.g. ``tutorial.md``)."""
    stem = docs_path.removesuffix(".md")
    html = site / (stem.removesuffix("index") if stem.endswith("index") else stem + "/")
    return (html / "index.html").read_text(encoding="utf-8")


def generated_in(site: Path) -> set[str]:
    """The docs/ paths of every page the build has, hand-written or generated."""
    found = set()
    for html in site.rglob("index.html"):
        relative = html.parent.relative_to(site).as_posix()
        found.add("index.md" if relative == "." else f"{relative}.md")
        found.add(f"{relative}/index.md")
    return found

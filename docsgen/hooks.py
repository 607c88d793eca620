"""The MkDocs hook (``hooks:`` in ``mkdocs.yml``): adds the generated pages to the build and
their entries to the navigation."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # mkdocs loads this file by path
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File, Files  # noqa: E402

from docsgen import api_reference, cli_reference, results  # noqa: E402
from docsgen.attrs_reference import attrs_page  # noqa: E402
from docsgen.layout import layout_page  # noqa: E402
from docsgen.sources import COMMANDS  # noqa: E402
from docsgen.table_reference import table_page  # noqa: E402


def pages() -> dict[str, str | bytes]:
    """Every generated file: its path under docs/ and its content."""
    out: dict[str, str | bytes] = {
        "reference/cli/index.md": cli_reference.index_page(),
        "reference/attributes.md": attrs_page(),
        "reference/table-format.md": table_page(),
        "reference/layout.md": layout_page(),
        "results/index.md": results.index_page(),
    }
    for command in COMMANDS:
        out[cli_reference.page_path(command)] = cli_reference.command_page(command)
    found = api_reference.faces()
    out["reference/api/index.md"] = api_reference.index_page(found)
    for package, names in found.items():
        out[api_reference.page_path(package)] = api_reference.package_page(package, names)
    for path in results.result_files():
        out[results.page_path(path.stem)] = results.result_page(path)
        png = path.with_suffix(".png")
        if png.exists():
            out[f"results/{png.name}"] = png.read_bytes()
    return out


_PAGES: dict[str, str | bytes] = {}


def on_config(config):
    _PAGES.clear()
    _PAGES.update(pages())
    config["nav"] = [_expanded(item) for item in config["nav"]]
    return config


def on_files(files: Files, config) -> Files:
    for path, content in _PAGES.items():
        files.append(File.generated(config, path, content=content))
    return files


def _expanded(item):
    """``Reference: reference/index.md`` and ``Results: results/index.md`` become sections
    holding the generated pages."""
    if not isinstance(item, dict):
        return item
    ((title, value),) = item.items()
    if value == "results/index.md":
        entries = (
            [{"Overview": value}]
            + [{results.title(p.stem): results.page_path(p.stem)} for p in results.result_files()]
            + [{"Reliability": "results/reliability.md"}]
        )
        return {title: entries}
    if value == "reference/index.md":
        return {title: _reference_nav()}
    return item


def _reference_nav() -> list:
    commands = [{"Overview": "reference/cli/index.md"}] + [
        {command: cli_reference.page_path(command)} for command in COMMANDS
    ]
    api = [{"Overview": "reference/api/index.md"}] + [
        {path.removeprefix("reference/api/").removesuffix(".md"): path}
        for path in _PAGES
        if path.startswith("reference/api/") and not path.endswith("index.md")
    ]
    return [
        {"Commands": commands},
        {"Study and trial attributes": "reference/attributes.md"},
        {"Learning-curve tables": "reference/table-format.md"},
        {"Python API": api},
        {"Source layout": "reference/layout.md"},
    ]

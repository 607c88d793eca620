"""The source layout page: every package and module with the first line of its docstring, read
from the files (nothing imported), so the map follows every rename."""

from __future__ import annotations

import ast

from docsgen.markdown import docstring, table
from docsgen.sources import PACKAGES, ROOT


def layout_page() -> str:
    text = [
        "<!-- generated from the modules' docstrings by docsgen; do not edit -->\n",
        "# Source layout\n\n",
        "Every package and module, with the first line of its docstring. Dependencies point one "
        "way: `search` uses `objectives` and `storage`; `objectives` never imports Optuna, the "
        "search or the storage; `storage` knows nothing of models. `tests/` mirrors the "
        "packages; `bench/` holds the benchmarks behind the [results](../results/index.md).\n\n",
    ]
    for package in PACKAGES:
        for directory in sorted(p.parent for p in (ROOT / package).rglob("__init__.py")):
            name = ".".join(directory.relative_to(ROOT).parts)
            text.append(f"## `{name}`\n\n{_first(directory / '__init__.py')}\n\n")
            rows = [
                [f"`{path.stem}`", _first(path)]
                for path in sorted(directory.glob("*.py"))
                if path.name != "__init__.py"
            ]
            if rows:
                text.append(table(["module", "what it holds"], rows) + "\n")
    return "".join(text)


def _first(path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return docstring(doc.split("\n\n")[0])

"""The study and trial attributes page: every constant of the attributes module with the comment
above it (or beside it), grouped under its ``# --- section ---`` line, and its readers."""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass, field

from docsgen.markdown import docstring, table
from docsgen.sources import ATTRS_MODULE

GENERATED = f"<!-- generated from {ATTRS_MODULE} by docsgen; do not edit -->\n"


@dataclass
class _Section:
    title: str
    rows: list[list[str]] = field(default_factory=list)


def attrs_page() -> str:
    module = importlib.import_module(ATTRS_MODULE)
    source = inspect.getsource(module)
    sections = _constants(source, vars(module))
    sections[0].rows += _imported(source, vars(module))
    text = [GENERATED, "# Study and trial attributes\n\n", docstring(module.__doc__), "\n\n"]
    for section in sections:
        if section.rows:
            rows = table(["name", "value", "what it holds"], section.rows)
            text += [f"## {section.title}\n\n", rows, "\n"]
    readers = _readers(module)
    if readers:
        text += ["## Readers\n\n", f"In `{ATTRS_MODULE}`:\n\n"]
        text.append(table(["function", "reads"], readers))
    return "".join(text)


def _constants(source: str, values: dict) -> list[_Section]:
    lines = source.splitlines()
    sections = [_Section("Shared with the storage package")]
    for node in ast.parse(source).body:
        comment = _comment_above(lines, node.lineno - 1, sections)
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id.isupper() and target.id != "__all__"):
            continue
        value = values.get(target.id)
        if not isinstance(value, str | int | float | tuple):
            continue
        beside = lines[node.end_lineno - 1].partition("  # ")[2]
        described = beside or comment or ("as above" if sections[-1].rows else "")
        sections[-1].rows.append([f"`{target.id}`", _shown(value), docstring(described)])
    return sections


def _comment_above(lines: list[str], index: int, sections: list[_Section]) -> str:
    """The comment block directly above line ``index``; a ``# --- title ---`` line in it opens a
    section."""
    block = []
    i = index - 1
    while i >= 0 and lines[i].startswith("#"):
        block.insert(0, lines[i])
        i -= 1
    text = []
    for line in block:
        if line.startswith("# ---"):
            sections.append(_Section(line.strip("# -").capitalize()))
        else:
            text.append(line.lstrip("# "))
    return " ".join(text)


def _imported(source: str, values: dict) -> list[list[str]]:
    rows = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = alias.asname or alias.name
                if name.isupper() and isinstance(values.get(name), str | int):
                    rows.append([f"`{name}`", _shown(values[name]), f"from `{node.module}`"])
    return rows


def _readers(module) -> list[list[str]]:
    rows = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or function.__module__ != module.__name__:
            continue
        first = (inspect.getdoc(function) or "").split("\n\n")[0]
        signature = str(inspect.signature(function)).replace("'", "")
        rows.append([f"`{name}{signature}`", docstring(first)])
    return rows


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(f"`{item}`" for item in value)
    return f"`{value!r}`" if isinstance(value, str) else f"`{value}`"

"""Small Markdown helpers the generated pages share."""

from __future__ import annotations

import re


def cell(text: object) -> str:
    """Text for one table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def docstring(text: str | None) -> str:
    """A docstring as Markdown: reST roles (``:func:`x```) and double backticks become code."""
    if not text:
        return ""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def code(text: str, language: str = "text") -> str:
    return f"```{language}\n{text.rstrip()}\n```\n"

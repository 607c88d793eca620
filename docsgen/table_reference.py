"""The learning-curve table format page, from the table module's own docstring and constants."""

from __future__ import annotations

import importlib
import inspect

from docsgen.markdown import docstring
from docsgen.sources import TABLE_MODULE


def table_page() -> str:
    module = importlib.import_module(TABLE_MODULE)
    text = [
        f"<!-- generated from {TABLE_MODULE} by docsgen; do not edit -->\n",
        "# Learning-curve tables\n\n",
        "What `python -m search.simulate` replays strategies against "
        "([how-to](../how-to/simulate.md)). ",
        docstring(_indented_as_code(inspect.getdoc(module) or "")),
        "\n\n",
    ]
    if hasattr(module, "FORMAT"):
        text.append(f"The format this code reads and writes: `{module.FORMAT}`.\n\n")
    if hasattr(module, "OBJECTIVES"):
        text.append(
            "The objectives, in the order of each evaluation's last two values: "
            + ", ".join(f"`{name}`" for name in module.OBJECTIVES)
            + ".\n"
        )
    return "".join(text)


def _indented_as_code(text: str) -> str:
    """A docstring's indented blocks (its examples) as fenced code."""
    out, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("    "):
            block.append(line[4:])
            continue
        if block and line.strip():
            out += ["```json", *block, "```"]
            block = []
        elif block:
            out += ["```json", *block, "```", ""]
            block = []
            continue
        out.append(line)
    return "\n".join(out)

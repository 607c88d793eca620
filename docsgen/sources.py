"""Where the generated pages read from: the one list of commands, and the modules the reference
is written from. The generator and the tests share these; after a rename, change it here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RESULTS = ROOT / "bench" / "results"

# Every command a user runs, in the order the reference lists them (``python -m NAME``).
COMMANDS = (
    "search.run",
    "search.dashboard",
    "search.report",
    "search.ensemble",
    "search.final",
    "search.simulate",
    "search.simulate.fidelity",
    "search.proxy",
    "objectives.finetune",
    "objectives.score",
    "objectives.sample",
    "objectives.describe",
    "objectives.tapt",
)
# Modules with a ``__main__`` that are not commands of their own: the launcher starts workers.
NOT_COMMANDS = ("search.worker",)
# The packages whose faces (``__all__``) the API reference documents, with their subpackages.
PACKAGES = ("common", "objectives", "search", "storage")
# Study and trial attributes: the constants (with the comment above each) of this module.
ATTRS_MODULE = "search._attrs"
# The learning-curve table format: this module's docstring.
TABLE_MODULE = "search.simulate._table"

"""An entity column's text as exported: a Python dict literal, parsed with a literal parser
(never ``eval``), with curly quotes around keys and values read as straight ones."""

from __future__ import annotations

import ast
import re
from typing import Any

from common._cli import UserError


def entity_dict(where: str, value: Any) -> tuple[dict[str, Any], bool]:
    """The entity as a dict, and whether curly quotes had to be made straight to read it."""
    if isinstance(value, dict):
        return value, False
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: empty entity")
    parsed = _literal(value.strip())
    straightened = False
    if parsed is None:
        parsed = _literal(straighten_quotes(value.strip()))
        straightened = parsed is not None
    if not isinstance(parsed, dict):
        raise UserError(f"{where}: not a dict literal: {clip(value)}")
    return parsed, straightened


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


# A curly quote right after "{", ",", ":" or right before ":", ",", "}" delimits a key or value
# (spreadsheets and word processors turn ' into ‘ ’); one inside a word is left alone.
_OPENING = re.compile(r"([{,:]\s*)[‘’“”]")
_CLOSING = re.compile(r"[‘’“”](\s*[:,}])")


def straighten_quotes(text: str) -> str:
    """``{‘word’: ‘CLS', ...}`` -> ``{'word': 'CLS', ...}``: curly quotes in the positions
    where only a delimiting quote can stand become straight ones."""
    return _CLOSING.sub(r"'\1", _OPENING.sub(r"\1'", text))


def clip(text: str, limit: int = 60) -> str:
    """``text`` on one line, shortened to ``limit`` characters for a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

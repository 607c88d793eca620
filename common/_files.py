"""Reading the project's input files as text and CSV rows, with errors that name file and row."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import uuid
from pathlib import Path

from common._cli import RowErrors, UserError


def read_text(path: Path, kind: str = "data file", where: str | None = None) -> str:
    """The text of a user's file (UTF-8, a BOM dropped); a missing file, a folder or other bytes
    are a :class:`UserError` that begins with ``where`` (default: the path; a flag and the path
    where a flag named it) and names the line of the first bad byte."""
    where = where or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{where}: {kind} not found") from None
    except IsADirectoryError:
        raise UserError(f"{where}: is a directory, not a {kind}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{where}: line {line}: not UTF-8 (byte {data[exc.start]:#04x})") from None


def csv_rows(
    path: Path, text: str, delimiter: str = ","
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and, for each non-blank data row, (row number, fields by column); row 1 is the
    line after the header. pandas' unnamed index column is called ``_index``."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
        if header and header[0] in ("", "Unnamed: 0"):
            header[0] = "_index"  # pandas' to_csv index column
        rows = []
        errors = RowErrors(str(path))
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue
            number = reader.line_num - 1
            if len(fields) != len(header):
                errors.add(
                    f"{path}: row {number}: expected {len(header)} fields, found {len(fields)}"
                )
                continue
            rows.append((number, dict(zip(header, fields, strict=True))))
    except csv.Error as exc:
        raise UserError(f"{path}: bad CSV at line {reader.line_num}: {exc}") from None
    errors.raise_if_any()
    return header, rows


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that a reader sees the old file or the whole new one:
    a unique temporary name beside it (os.replace is atomic only within one file system), flushed
    to disk, then renamed over it. The directory must exist."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def safe_name(name: str) -> str:
    """``name`` (a study name read from a shared storage, which anyone who can write to it
    chose) as one path component that stays inside the directory it is joined to: characters
    other than letters, digits and ``._+-`` become ``_``, leading dots go, and a name that had to
    change gets a short hash of the original so that two names do not meet."""
    cleaned = re.sub(r"[^A-Za-z0-9._+-]", "_", name).lstrip(".")[:100]
    if cleaned == name and cleaned:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{cleaned or 'study'}-{digest}"

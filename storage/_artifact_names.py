"""Readable object names for artifacts in a bucket: what they are, with their unique id kept.

Optuna names an artifact by a random id, and readers (optuna-dashboard, ``download_artifact``)
ask the store for that id alone. In a bucket the object is named after the uploaded file with the
id before its extension, ``re-trial-12-dev_predictions-<id>.csv``, so a listing shows the study
and trial of every object; a reader's id is found again by the suffix. An object stored under the
bare id (older studies) is still found.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_NAMED = re.compile(rf".*-({_ID})(\.\w+)?")
_SAFE = re.compile(r"[^\w.-]+")


def object_name(artifact_id: str, filename: str | None) -> str:
    """``("<id>", "/tmp/x/re-trial-12-dev_predictions.csv")`` ->
    ``"re-trial-12-dev_predictions-<id>.csv"``; the bare id when there is no file name."""
    if not filename:
        return artifact_id
    name = _SAFE.sub("_", PurePath(filename).name)
    stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
    return f"{stem}-{artifact_id}{dot}{extension}" if stem else artifact_id


def artifact_id_of(name: str) -> str | None:
    """The artifact id an object name ends with (before its extension), or None."""
    if re.fullmatch(_ID, name):
        return name
    match = _NAMED.fullmatch(name)
    return match.group(1) if match else None

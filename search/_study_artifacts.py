"""Where a study's predictions live, as the search and its readers see it.

The launcher records the location in the study (``storage._artifacts.ARTIFACTS_ATTR``); a worker
started without ``--artifacts`` (a second machine joining) and every reader (the dashboard,
``search.ensemble``) use the recorded one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import optuna

from storage._artifacts import (
    ARTIFACTS_ATTR,
    ArtifactStore,
    choose,
    normalize,
    open_artifact_store,
    saved_location,
)
from storage._urls import artifact_dir_for

log = logging.getLogger(__name__)


def location_for_search(
    flag: str | Path | None, storage: optuna.storages.BaseStorage, study: str, storage_url: str
) -> str:
    """The flag, else what an existing study records, else the storage's default directory."""
    return choose(flag, saved_location(storage, study), artifact_dir_for(storage_url))


def save_location(study: optuna.Study, location: str) -> None:
    """Record where this study's predictions go; say so when a launcher stores them elsewhere."""
    wanted = normalize(location)
    recorded = study.user_attrs.get(ARTIFACTS_ATTR)
    if recorded is None:
        study.set_user_attr(ARTIFACTS_ATTR, wanted)
    elif recorded != wanted:
        log.warning(
            "--artifacts %s: study %s records its artifacts in %s; readers need --artifacts %s "
            "for this launcher's trials",
            *(location, study.study_name, recorded, location),
        )


def reader_store(flag: str | Path | None, study: optuna.Study, storage_url: str) -> ArtifactStore:
    """The store a command reads ``study``'s predictions from: the flag, the study's record, or
    the storage's default directory."""
    recorded = study.user_attrs.get(ARTIFACTS_ATTR)
    return open_artifact_store(choose(flag, recorded, artifact_dir_for(storage_url)))

"""What makes a study's trials comparable: the data, the label set and the model it searched.

A study's trials are compared with one another (Pareto front, importances, the best trial), so
trials trained on other data, another label set, another no-relation label or another model
must not join it unnoticed. A changed search space is legitimate (Optuna samples from the space
each trial is given) and is recorded so the report can say from which trial it holds.
"""

from __future__ import annotations

import json
from typing import Any

import optuna

from common._cli import UserError
from objectives.data._inputs import TrialData
from search._attrs import set_study_metadata, stored_study_attrs, study_attrs
from search._config import SearchConfig
from search._space import Space

CHANGES_ATTR = "changes"
ADD_ANYWAY_FLAG = "--add-anyway"


def differences(recorded: dict[str, Any], config: SearchConfig, data: TrialData) -> list[str]:
    """What differs between a study's recorded metadata and this run, one phrase each."""
    stored = recorded.get("data") or {}
    found = []
    train_print = str(stored.get("fingerprint", "")).split("-")[0]
    if train_print and train_print != data.train.fingerprint:
        found.append(
            f"train data (fingerprint {train_print} of {stored.get('train')}, now "
            f"{data.train.fingerprint} of {config.files.train})"
        )
    dev_print = stored.get("dev_fingerprint")
    if dev_print and dev_print != data.dev.fingerprint:
        found.append(
            f"dev data (fingerprint {dev_print} of {stored.get('dev')}, now "
            f"{data.dev.fingerprint} of {config.files.dev})"
        )
    labels = stored.get("labels") or {}
    if labels.get("names") and list(labels["names"]) != list(data.labels.names):
        found.append(f"label list ({_labels_diff(labels['names'], data.labels.names)})")
    if labels.get("no_relation") and labels["no_relation"] != data.labels.no_relation:
        found.append(
            f"no-relation label ({labels['no_relation']!r}, now {data.labels.no_relation!r})"
        )
    if recorded.get("model") and recorded["model"] != config.plan.model:
        found.append(f"model ({recorded['model']}, now {config.plan.model})")
    return found


def _labels_diff(old: list[str], new: tuple[str, ...]) -> str:
    gone = [n for n in old if n not in new]
    added = [n for n in new if n not in old]
    if not gone and not added:
        return f"same {len(new)} labels in another order"
    parts = [f"{len(old)} labels, now {len(new)}"]
    if gone:
        parts.append("without " + ", ".join(gone[:3]) + (" ..." if len(gone) > 3 else ""))
    if added:
        parts.append("with " + ", ".join(added[:3]) + (" ..." if len(added) > 3 else ""))
    return "; ".join(parts)


def check_identity(
    recorded: dict[str, Any], config: SearchConfig, data: TrialData, add_anyway: bool
) -> list[str]:
    """The differences, where ``add_anyway`` accepts them; otherwise a one-line UserError."""
    found = differences(recorded, config, data)
    if found and not add_anyway:
        raise UserError(
            f"--study {config.deployment.study}: was searched with other {'; '.join(found)}; "
            "its trials would not be comparable: choose another --study, or pass "
            f"{ADD_ANYWAY_FLAG} to add to it anyway"
        )
    return found


def space_changed(recorded: dict[str, Any], space: Space) -> bool:
    """Whether this run's search space differs from the one the study was last run with."""
    last = recorded.get("space")
    for change in recorded.get(CHANGES_ATTR, []):
        last = change.get("space", last)
    return last is not None and last != json.loads(json.dumps(space.to_json()))


def save_changes(
    study: optuna.Study, found: list[str], space: Space | None, from_trial: int
) -> None:
    """Append what changed from ``from_trial`` on to the study's ``changes`` attribute."""
    if not found and space is None:
        return
    entry: dict[str, Any] = {"from_trial": from_trial}
    if found:
        entry["differs"] = found
    if space is not None:
        entry["space"] = space.to_json()
        entry["space_file"] = space.source
    changes = list(study_attrs(study).get(CHANGES_ATTR, []))
    set_study_metadata(study, **{CHANGES_ATTR: [*changes, entry]})


def study_changes(storage: optuna.storages.BaseStorage, name: str) -> list[dict[str, Any]]:
    """The changes a stored study records so far (none for a study that does not exist)."""
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        return []
    return list(stored_study_attrs(storage, study_id).get(CHANGES_ATTR, []))


def describe_changes(changes: list[dict[str, Any]]) -> list[str]:
    """One line per recorded change, for the report and the start of a run."""
    lines = []
    for change in changes:
        start = change.get("from_trial")
        if change.get("differs"):
            lines.append(
                f"From trial {start} on, trials were added with other "
                + "; ".join(change["differs"])
                + f" ({ADD_ANYWAY_FLAG}): compare trials across it with care."
            )
        if "space" in change:
            source = change.get("space_file") or "the built-in space"
            lines.append(f"From trial {start} on, the search space is {source} (changed).")
    return lines

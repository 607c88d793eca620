"""A finished search's study, opened for reading: the ``--storage``/``--study`` flags every
reading command takes, the lookup with one-line errors, and the study's objective names."""

from __future__ import annotations

import optuna

from common._cli import ArgumentParser, UserError
from search import _attrs as attrs
from storage._reading import open_existing
from storage._urls import default_storage_url


def add_study_flags(p: ArgumentParser) -> None:
    """``--storage`` and ``--study``, as every command that reads a finished search takes them."""
    p.add_argument("--storage", help="the search's storage URL (default: sqlite:///searches.db)")
    p.add_argument("--study", help="study name (default: the storage's only study)")


def open_study(storage: str | None, name: str | None) -> tuple[str, optuna.Study]:
    """The storage URL (``--storage``, default searches.db) and its study ``name``, for reading:
    a :class:`UserError` for a missing SQLite file or a study that is not there."""
    url = storage or default_storage_url()
    return url, load_study(open_existing(url), name)


def load_study(storage: optuna.storages.BaseStorage, name: str | None) -> optuna.Study:
    """The named study (or the storage's only one when ``name`` is None); a :class:`UserError`
    listing the studies there when it does not exist."""
    names = sorted(s.study_name for s in storage.get_all_studies())
    if name is None and len(names) == 1:
        name = names[0]
    there = ", ".join(names) if names else "none"
    if name is None and not names:
        raise UserError("--study: the storage holds no study yet (run python -m search.run)")
    if name is None:
        raise UserError(f"--study: required when the storage holds several; studies there: {there}")
    if name not in names:
        raise UserError(f"--study {name}: no such study in this storage; studies there: {there}")
    return optuna.load_study(study_name=name, storage=storage)


def objective_names(study: optuna.Study) -> list[str]:
    names = study.metric_names or study.user_attrs.get(attrs.OBJECTIVES)
    return list(names) if names else [f"objective{i}" for i in range(len(study.directions))]

"""Creating a study once, with what it records about itself, and loading it in workers."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.study import StudyDirection
from optuna.trial import TrialState

from common.cli import UserError
from common.versions import code_version, package_versions
from objectives.data.inputs import TrialData
from search.config import SearchConfig
from search.pruning.stoppers import optuna_pruner
from search.sampling import klue_recipe, make_sampler
from search.space import Space

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def study_exists(storage: optuna.storages.BaseStorage, name: str) -> bool:
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


def check_existing(storage: optuna.storages.BaseStorage, config: SearchConfig) -> None:
    """A study of that name must have the same objectives; raise before anything is written."""
    if not study_exists(storage, config.study):
        return
    study_id = storage.get_study_id_from_name(config.study)
    directions = storage.get_study_directions(study_id)
    names = storage.get_study_user_attrs(study_id).get("objectives")
    if names is None:
        names = [f"objective {i}" for i in range(len(directions))]
    wanted = list(config.objectives)
    if list(names) != wanted:
        raise UserError(
            f"--study {config.study}: exists with objectives {', '.join(names)}, "
            f"not {', '.join(wanted)}; choose another --study or the same --objectives"
        )
    if any(d != StudyDirection.MAXIMIZE for d in directions):
        found = ", ".join(d.name.lower() for d in directions)
        raise UserError(
            f"--study {config.study}: exists with directions {found}, but this search maximizes "
            "every objective; choose another --study"
        )


def create_or_load(
    storage: optuna.storages.BaseStorage, config: SearchConfig, space: Space, data: TrialData
) -> optuna.Study:
    """Create the study (once: a second launcher loads it), record its metadata, enqueue trial 0.

    Optuna's create_study is safe against a concurrent creator (load_if_exists). The KLUE
    recipe is enqueued only into a study that has no trials yet.
    """
    check_existing(storage, config)
    study = optuna.create_study(
        storage=storage,
        study_name=config.study,
        directions=["maximize"] * len(config.objectives),
        load_if_exists=True,
    )
    attrs = study.user_attrs
    if "objectives" not in attrs:
        with warnings.catch_warnings():  # experimental since 3.2, and what the dashboard shows
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(config.objectives))
        for key, value in study_metadata(config, space, data).items():
            study.set_user_attr(key, value)
    else:
        record_test(study, config, data)
    record_hypotheses(study, config.hypotheses)
    if not study.trials:
        recipe = klue_recipe(config.model, space)
        study.enqueue_trial(recipe, user_attrs={"origin": "KLUE paper recipe"})
    return study


def record_hypotheses(study: optuna.Study, texts: Sequence[str]) -> None:
    """Add the hypotheses the study does not have yet to its ``hypotheses`` attribute, each with
    the trial it was written before (``from_trial``).

    The single ``hypothesis`` attribute of earlier versions is kept in sync: it holds the most
    recently added hypothesis, so readers that know only it still find one.
    """
    attrs = study.user_attrs
    recorded = list(attrs.get("hypotheses", []))
    if not recorded and attrs.get("hypothesis"):  # a study written before the list existed
        recorded = [{"text": attrs["hypothesis"], "from_trial": 0}]
    known = {h["text"] for h in recorded}
    new = [text for text in dict.fromkeys(texts) if text not in known]
    if not new:
        return
    since = len(study.trials)
    recorded += [{"text": text, "from_trial": since} for text in new]
    study.set_user_attr("hypotheses", recorded)
    study.set_user_attr("hypothesis", recorded[-1]["text"])


def study_metadata(config: SearchConfig, space: Space, data: TrialData) -> dict[str, Any]:
    return {
        "objectives": list(config.objectives),
        "model": config.model,
        "data": {
            "train": config.train,
            "dev": config.dev,
            "fingerprint": data.fingerprint,
            "train_rows": len(data.train),
            "dev_rows": len(data.dev),
            "dev_fingerprint": data.dev.fingerprint,
            **_test_metadata(config, data),
            "labels": data.labels.to_json(),
        },
        "space": space.to_json(),
        "space_file": space.source,
        "sampler": config.sampler,
        "pruner": config.pruner,
        "reduction_factor": config.reduction_factor,
        "min_resource": config.min_resource,
        "evals_per_epoch": config.evals_per_epoch,
        "evals_per_run": config.evals_per_run,
        "code_version": code_version(),
        "packages": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _test_metadata(config: SearchConfig, data: TrialData) -> dict[str, Any]:
    """The test file whose probabilities trials store, for an ensemble to check ``--test``."""
    if data.test is None:
        return {}
    return {
        "test": config.test,
        "test_fingerprint": data.test.fingerprint,
        "test_rows": len(data.test),
    }


def record_test(study: optuna.Study, config: SearchConfig, data: TrialData) -> None:
    """A study created without ``--test`` records the first test file it is run with; another
    test file than the recorded one is refused, so all stored test predictions are of one file."""
    recorded = study.user_attrs.get("data") or {}
    wanted = _test_metadata(config, data)
    if not wanted:
        return
    if "test_fingerprint" not in recorded:
        study.set_user_attr("data", {**recorded, **wanted})
    elif recorded["test_fingerprint"] != wanted["test_fingerprint"]:
        raise UserError(
            f"--test {config.test}: study {config.study} stores test predictions of another file "
            f"({recorded.get('test')}, fingerprint {recorded['test_fingerprint']}); give that "
            "file or another --study"
        )


def load_for_worker(storage: optuna.storages.BaseStorage, config: SearchConfig) -> optuna.Study:
    """The study as a worker sees it: its own sampler and pruner objects, shared storage."""
    seed = None if config.seed is None else config.seed + _worker_offset()
    return optuna.load_study(
        study_name=config.study,
        storage=storage,
        sampler=make_sampler(config.sampler, seed),
        pruner=optuna_pruner(config.pruner, len(config.objectives)),
    )


def _worker_offset() -> int:
    return int(os.environ.get("RE_SEARCH_WORKER", "0"))


def counts(study: optuna.Study) -> tuple[int, int, int]:
    """(finished, running, waiting) trials of the study."""
    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state in FINISHED for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    return finished, running, waiting

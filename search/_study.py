"""Creating a study once, with what it records about itself, and loading it in workers."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from common._cli import UserError
from common._versions import code_version, package_versions
from objectives.data._inputs import TrialData
from search._attrs import (
    BASELINE_ORIGIN,
    DATA,
    EXTERNAL_FAILURES,
    FAIL_REASON,
    HYPOTHESES,
    HYPOTHESIS,
    MODEL,
    OBJECTIVES,
    ORIGIN,
    STARTUP_DESIGN,
    set_study_metadata,
    stored_study_attrs,
    study_attrs,
    study_data,
    study_hypotheses,
)
from search._config import SearchConfig
from search._design import METHOD as DESIGN_METHOD
from search._design import startup_design
from search._identity import check_identity, save_changes, space_changed
from search._sampling import SEED_DERIVATION, TPE_STARTUP, klue_recipe, make_sampler, worker_seed
from search._space import Space
from search.pruning._pruner import optuna_pruner
from storage._locks import storage_lock

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# the study's user attributes (``optuna studies`` prints them); the rest is its metadata
SHORT = (MODEL, OBJECTIVES)


def study_exists(storage: optuna.storages.BaseStorage, name: str) -> bool:
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True


def check_existing(storage: optuna.storages.BaseStorage, config: SearchConfig) -> None:
    """A study of that name must have the same objectives; raise before anything is written."""
    if not study_exists(storage, config.deployment.study):
        return
    study_id = storage.get_study_id_from_name(config.deployment.study)
    directions = storage.get_study_directions(study_id)
    names = storage.get_study_user_attrs(study_id).get(OBJECTIVES)
    if names is None:
        names = [f"objective {i}" for i in range(len(directions))]
    wanted = list(config.plan.objectives)
    if list(names) != wanted:
        raise UserError(
            f"--study {config.deployment.study}: exists with objectives {', '.join(names)}, "
            f"not {', '.join(wanted)}; choose another --study or the same --objectives"
        )
    if any(d != StudyDirection.MAXIMIZE for d in directions):
        found = ", ".join(d.name.lower() for d in directions)
        raise UserError(
            f"--study {config.deployment.study}: exists with directions {found}, but this search "
            "maximizes every objective; choose another --study"
        )


def create_or_load(
    storage: optuna.storages.BaseStorage,
    config: SearchConfig,
    space: Space,
    data: TrialData,
    add_anyway: bool = False,
) -> optuna.Study:
    """Create the study (once: a second launcher loads it), record its metadata, enqueue trial 0.

    Every step runs under the study's storage lock (:mod:`storage._locks`), so launchers started
    together find either no study or one with its objectives, metadata and the KLUE recipe. An
    existing study searched on other data, labels or model is refused unless ``add_anyway``;
    what differs, and a changed search space, is recorded with the trial number it holds from.
    """
    with storage_lock(storage, f"study:{config.deployment.study}"):
        check_existing(storage, config)
        study = optuna.create_study(
            storage=storage,
            study_name=config.deployment.study,
            directions=["maximize"] * len(config.plan.objectives),
            load_if_exists=True,
        )
        attrs = study_attrs(study)
        if OBJECTIVES not in attrs:
            with warnings.catch_warnings():  # experimental since 3.2, and what the dashboard shows
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(list(config.plan.objectives))
            metadata = study_metadata(config, space, data)
            set_study_metadata(study, **{k: metadata[k] for k in metadata if k not in SHORT})
            for key in SHORT:  # last: a study with its objectives has its metadata
                study.set_user_attr(key, metadata[key])
        else:
            found = check_identity(attrs, config, data, add_anyway)
            save_test_file(study, config, data)
            changed = space if space_changed(attrs, space) else None
            save_changes(study, found, changed, len(study.trials))
        add_hypotheses(study, config.plan.hypotheses)
        if recipe_needed(study.get_trials(deepcopy=False)):
            recipe = klue_recipe(config.plan.model, space)
            study.enqueue_trial(recipe, user_attrs={ORIGIN: BASELINE_ORIGIN})
    return study


def recipe_needed(trials: Sequence[FrozenTrial]) -> bool:
    """Whether the KLUE recipe must be enqueued: into a study with no trials, and again while
    every attempt at it failed for a cause outside the trial (a signal, a dead worker, the
    storage). A recipe that completed, was pruned, failed for a reason of its own, or is
    running or waiting needs nothing."""
    if not trials:
        return True
    runs = [t for t in trials if t.user_attrs.get(ORIGIN) == BASELINE_ORIGIN]
    if not runs:
        return False
    for t in runs:
        if t.state != TrialState.FAIL:
            return False
        reason = str(t.user_attrs.get(FAIL_REASON, ""))
        if reason and not reason.startswith(EXTERNAL_FAILURES):
            return False
    return True


def add_hypotheses(study: optuna.Study, texts: Sequence[str]) -> None:
    """Add the hypotheses the study does not have yet to its ``hypotheses`` attribute, each with
    the trial it was written before (``from_trial``).

    The single ``hypothesis`` attribute that 0.1.0 studies hold is kept in sync: it holds the most
    recently added hypothesis, so readers that know only it still find one.
    """
    recorded = study_hypotheses(study_attrs(study))
    known = {h["text"] for h in recorded}
    new = [text for text in dict.fromkeys(texts) if text not in known]
    if not new:
        return
    since = len(study.trials)
    recorded += [{"text": text, "from_trial": since} for text in new]
    set_study_metadata(study, **{HYPOTHESES: recorded, HYPOTHESIS: recorded[-1]["text"]})


def study_metadata(config: SearchConfig, space: Space, data: TrialData) -> dict[str, Any]:
    return {
        "objectives": list(config.plan.objectives),
        "model": config.plan.model,
        "data": {
            "train": config.files.train,
            "dev": config.files.dev,
            "fingerprint": data.fingerprint,
            "train_rows": len(data.train),
            "dev_rows": len(data.dev),
            "dev_fingerprint": data.dev.fingerprint,
            "dev_absent_labels": absent_labels(data),
            **_test_metadata(config, data),
            "labels": data.labels.to_json(),
        },
        "space": space.to_json(),
        "space_file": space.source,
        "sampler": config.plan.sampler,
        "startup": config.plan.startup if config.plan.sampler == "tpe" else None,
        "explore": config.plan.explore if config.plan.sampler == "tpe" else None,
        "seed": config.plan.seed,
        "worker_seeds": None if config.plan.seed is None else SEED_DERIVATION,
        **_design_metadata(config, space),
        "pruner": config.plan.pruner,
        "reduction_factor": config.plan.reduction_factor,
        "min_resource": config.plan.min_resource,
        "min_trials": config.plan.min_trials,
        "evals_per_epoch": config.plan.evals_per_epoch,
        "evals_per_run": config.plan.evals_per_run,
        "code_version": code_version(),
        "packages": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _design_metadata(config: SearchConfig, space: Space) -> dict[str, Any]:
    """TPE's start-up design, made from the search's seed (a fresh one without --seed)."""
    if config.plan.sampler != "tpe" or config.plan.startup != "design":
        return {}
    seed = config.plan.seed
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    # trial 0 of a new study is the KLUE recipe (create_study enqueues it): the design's point 0
    recipe = klue_recipe(config.plan.model, space)
    points = startup_design(space, config.plan.model, TPE_STARTUP, seed, first=[recipe])
    return {STARTUP_DESIGN: {"seed": seed, "method": DESIGN_METHOD, "points": points}}


def absent_labels(data: TrialData) -> list[str]:
    """Labels dev never uses: each counts 0.5 in AUPRC whatever the model predicts."""
    present = {ex.label for ex in data.dev.examples}
    return [name for name in data.labels.names if name not in present]


def _test_metadata(config: SearchConfig, data: TrialData) -> dict[str, Any]:
    """The test file whose probabilities trials store, for an ensemble to check ``--test``."""
    if data.test is None:
        return {}
    return {
        "test": config.files.test,
        "test_fingerprint": data.test.fingerprint,
        "test_rows": len(data.test),
    }


def save_test_file(study: optuna.Study, config: SearchConfig, data: TrialData) -> None:
    """A study created without ``--test`` records the first test file it is run with; another
    test file than the recorded one is refused, so all stored test predictions are of one file."""
    recorded = study_data(study)
    wanted = _test_metadata(config, data)
    if not wanted:
        return
    if "test_fingerprint" not in recorded:
        set_study_metadata(study, **{DATA: {**recorded, **wanted}})
    elif recorded["test_fingerprint"] != wanted["test_fingerprint"]:
        raise UserError(
            f"--test {config.files.test}: study {config.deployment.study} stores test predictions "
            f"of another file ({recorded.get('test')}, fingerprint "
            f"{recorded['test_fingerprint']}); give that file or another --study"
        )


def load_for_worker(storage: optuna.storages.BaseStorage, config: SearchConfig) -> optuna.Study:
    """The study as a worker sees it: its own sampler (following the study's start-up design,
    where it has one) and pruner objects, shared storage."""
    seed = None if config.plan.seed is None else worker_seed(config.plan.seed, _worker_index())
    study_id = storage.get_study_id_from_name(config.deployment.study)
    design = (stored_study_attrs(storage, study_id).get(STARTUP_DESIGN) or {}).get("points")
    return optuna.load_study(
        study_name=config.deployment.study,
        storage=storage,
        sampler=make_sampler(config.plan.sampler, seed, design or (), config.plan.explore),
        pruner=optuna_pruner(config.plan.pruner),
    )


def _worker_index() -> int:
    return int(os.environ.get("RE_SEARCH_WORKER", "0"))


def counts(study: optuna.Study) -> tuple[int, int, int]:
    """(finished, running, waiting) trials of the study."""
    trials = study.get_trials(deepcopy=False)
    finished = sum(t.state in FINISHED for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    return finished, running, waiting

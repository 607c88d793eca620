"""The best trials of a study as configuration files ``python -m objectives.finetune --config
FILE`` accepts: one per objective's best trial and one per Pareto-front trial."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from objectives._hparams import hparams_from_mapping
from search import _attrs as attrs
from search.analysis._plots import objective_slug


def export_configs(study: optuna.Study, report: Mapping[str, Any], out: Path) -> dict[str, str]:
    """Write ``best_<objective>.json`` and ``pareto_trial_<N>.json``; returns {file: trial}."""
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    files: dict[str, int] = {}
    for name, row in report["best"].items():
        files[f"best_{objective_slug(name)}.json"] = row["trial"]
    for row in report["pareto"]:
        files[f"pareto_trial_{row['trial']}.json"] = row["trial"]
    default_model = report.get("model")
    for file, number in files.items():
        config = trial_config(by_number[number], report["objectives"], default_model)
        (out / file).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return {file: f"trial {number}" for file, number in files.items()}


def trial_config(
    trial: FrozenTrial, names: Sequence[str], default_model: str | None = None
) -> dict[str, Any]:
    """A trial as an ``objectives.finetune --config`` file: model, every hyperparameter, origin."""
    hparams = attrs.trial_hparams(trial)
    if hparams is None:
        hparams = {k: v for k, v in trial.params.items() if k != "model"}
    hp = hparams_from_mapping(dict(hparams), f"trial {trial.number}")
    model = attrs.trial_model(trial, default_model)
    values = dict(zip(names, trial.values, strict=True)) if trial.values else {}
    config = {"model": model, "hparams": hp.to_dict(), "trial": trial.number, "values": values}
    runtime = attrs.trial_record(trial, attrs.RUNTIME)
    if runtime:  # threads, precision, cadence: for an exact rerun
        config["runtime"] = runtime
    return config

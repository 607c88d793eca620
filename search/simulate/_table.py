"""Learning-curve tables: every evaluation of every full run of a finished study, with its cost.

A table is a study (best run with ``python -m search.run --pruner none``): each COMPLETE trial is
a full run and each PRUNED one a partial curve (``"partial": true`` in an export), holding its
parameters, every evaluation of both objectives (``evals``) and each evaluation's
cost so far (``eval_costs``: wall seconds and train examples). :func:`load_table` reads it from
storage or from an export written by :func:`export_table`: gzip'd JSON lines, a header line

    {"format": "search-table/1", "study": ..., "objectives": ["micro_f1", "auprc"],
     "distributions": {name: optuna distribution JSON}, "metadata": {...}}

then one line per trial

    {"number": 3, "params": {...}, "total_steps": 225, "eval_seconds": 0.7,
     "evals": [[step, seconds, examples, micro_f1, auprc], ...]}

where ``seconds`` and ``examples`` are cumulative and ``eval_seconds`` is one evaluation's cost.
A line may name its ``source`` (bench/record_table.py's ``seeds``, or ``real:STRATEGY:SEED`` for
the full runs of a real search): checks against real searches leave a search's own runs out.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    distribution_to_json,
    json_to_distribution,
)
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from common._cli import UserError
from search._attrs import EVAL_COSTS_ATTR, study_attrs, trial_hparams, trial_record, trial_run
from search.pruning._evaluations import evals_of
from storage._reading import open_existing

FORMAT = "search-table/1"
OBJECTIVES = ("micro_f1", "auprc")
SCHEDULE = ("num_train_epochs", "per_device_train_batch_size")


@dataclass(frozen=True)
class Curve:
    """One full run: ``evals`` is an (n, 5) array of step, seconds, examples, F1, AUPRC."""

    number: int
    params: dict[str, Any]
    total_steps: int
    eval_seconds: float
    evals: np.ndarray
    partial: bool = False  # a pruned trial: its curve stops before its schedule's end
    source: str | None = None  # where the run came from, where the table says

    @property
    def fractions(self) -> np.ndarray:
        """Each evaluation's place in the run's own schedule, (0, 1]."""
        return self.evals[:, 0] / self.total_steps

    @property
    def final(self) -> tuple[float, float]:
        """What the run ended with: the evaluation best by F1 (the service keeps that one)."""
        best = int(np.argmax(self.evals[:, 3]))
        return float(self.evals[best, 3]), float(self.evals[best, 4])


@dataclass(frozen=True)
class Table:
    name: str
    distributions: dict[str, BaseDistribution]
    curves: tuple[Curve, ...]
    metadata: dict[str, Any]

    @property
    def full(self) -> tuple[Curve, ...]:
        """The full runs (what targets, costs and exact look-ups come from)."""
        return tuple(c for c in self.curves if not c.partial)

    @property
    def partial_share(self) -> dict[str, float]:
        """How much of the table is partial curves: of its runs and of its evaluations."""
        partial = [c for c in self.curves if c.partial]
        evals = sum(len(c.evals) for c in self.curves)
        return {
            "runs": len(partial) / len(self.curves),
            "evaluations": sum(len(c.evals) for c in partial) / evals,
        }

    @property
    def best_f1(self) -> float:
        return max(curve.final[0] for curve in self.full)


def load_table(source: str, study_name: str | None = None) -> Table:
    """A table from an export file, or (with ``study_name``) from a study in storage."""
    if study_name is not None:
        return table_from_study(_load_study(source, study_name))
    return _read_export(Path(source))


def _load_study(url: str, name: str) -> optuna.Study:
    try:
        return optuna.load_study(study_name=name, storage=open_existing(url))
    except KeyError as exc:
        raise UserError(f"--study {name}: no such study in --storage {url}") from exc


def table_from_study(study: optuna.Study) -> Table:
    """The study's COMPLETE trials as full runs and PRUNED ones as partial curves; refused (one
    line) if its objectives are not F1 and AUPRC or it has fewer than 2 full runs."""
    where = f"study {study.study_name}"
    names = list(study.metric_names or study.user_attrs.get("objectives") or [])
    maximize = all(d == StudyDirection.MAXIMIZE for d in study.directions)
    if tuple(names) != OBJECTIVES or not maximize:
        raise UserError(
            f"{where}: objectives {names or 'unnamed'} are not micro_f1, auprc (both maximized); "
            "a table needs a study run with --objectives f1,auprc"
        )
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if len(complete) < 2:
        raise UserError(f"{where}: {len(complete)} complete trials; a table needs at least 2")
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED and evals_of(t)]
    curves = tuple(_curve(t, where) for t in sorted(complete + pruned, key=lambda t: t.number))
    distributions: dict[str, BaseDistribution] = {}
    for trial in complete + pruned:
        distributions.update(trial.distributions)
    recorded = study_attrs(study)
    metadata = {k: recorded.get(k) for k in ("model", "space_file", "created")}
    data = recorded.get("data") or {}
    metadata["data"] = {k: data.get(k) for k in ("fingerprint", "train_rows", "dev_rows")}
    for key in ("evals_per_epoch", "evals_per_run", "sampler", "pruner"):
        metadata[key] = recorded.get(key)
    # the schedule's other inputs where the space fixes them (replays need them for new configs)
    hparams = trial_hparams(complete[0]) or {}
    metadata["fixed"] = {k: hparams[k] for k in SCHEDULE if k in hparams}
    return Table(study.study_name, distributions, curves, metadata)


def _curve(trial: FrozenTrial, where: str) -> Curve:
    evals = evals_of(trial)
    costs = trial_record(trial, EVAL_COSTS_ATTR)
    run = trial_run(trial)
    if not evals or not costs or "total_steps" not in run:
        missing = "evals" if not evals else EVAL_COSTS_ATTR if not costs else "run"
        raise UserError(
            f"{where}: trial {trial.number} has no {missing!r} record (it was not run by this "
            "version of search.run, or its run is missing)"
        )
    if set(costs) != {str(step) for step in evals}:
        raise UserError(f"{where}: trial {trial.number}: eval_costs and evals name other steps")
    rows = [[step, *costs[str(step)], *values[:2]] for step, values in evals.items()]
    eval_total = float((run.get("timings_s") or {}).get("eval", 0.0))
    return Curve(
        number=trial.number,
        params=dict(trial.params),
        total_steps=int(run["total_steps"]),
        eval_seconds=eval_total / len(rows),
        evals=np.array(rows, dtype=float),
        partial=trial.state == TrialState.PRUNED,
    )


def export_table(table: Table, path: Path) -> None:
    """Write ``table`` as gzip'd JSON lines (see the module docstring), temp file then rename."""
    header = {
        "format": FORMAT,
        "study": table.name,
        "objectives": list(OBJECTIVES),
        "distributions": {k: distribution_to_json(d) for k, d in table.distributions.items()},
        "metadata": table.metadata,
    }
    lines = [json.dumps(header)]
    for c in table.curves:
        evals = [
            [int(r[0]), round(r[1], 3), int(r[2]), round(r[3], 4), round(r[4], 4)] for r in c.evals
        ]
        row = {
            "number": c.number,
            "params": c.params,
            "total_steps": c.total_steps,
            "eval_seconds": round(c.eval_seconds, 4),
            "evals": evals,
        }
        if c.partial:
            row["partial"] = True
        if c.source:
            row["source"] = c.source
        lines.append(json.dumps(row))
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(lines) + "\n")
    tmp.replace(path)


def _read_export(path: Path) -> Table:
    where = f"--table {path}"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError as exc:
        raise UserError(f"{where}: no such file") from exc
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise UserError(f"{where}: not a gzip'd table export ({exc})") from exc
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserError(f"{where}: line {number} is not JSON ({exc.msg})") from exc
    header = records[0] if records else {}
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise UserError(f"{where}: line 1 is not a {FORMAT} header")
    if tuple(header.get("objectives", ())) != OBJECTIVES:
        raise UserError(f"{where}: objectives {header.get('objectives')} are not micro_f1, auprc")
    try:
        distributions = {k: json_to_distribution(v) for k, v in header["distributions"].items()}
        curves = tuple(_curve_from_json(r) for r in records[1:])
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{where}: a trial line lacks or mangles a field ({exc})") from exc
    if sum(not c.partial for c in curves) < 2:
        raise UserError(f"{where}: {len(curves)} trials; a table needs at least 2 full runs")
    return Table(str(header.get("study")), distributions, curves, header.get("metadata") or {})


def _curve_from_json(record: dict[str, Any]) -> Curve:
    evals = np.array(record["evals"], dtype=float).reshape(-1, 5)
    if not len(evals):
        raise ValueError(f"trial {record['number']} has no evaluations")
    return Curve(
        number=int(record["number"]),
        params=dict(record["params"]),
        total_steps=int(record["total_steps"]),
        eval_seconds=float(record["eval_seconds"]),
        evals=evals,
        partial=bool(record.get("partial", False)),
        source=str(record["source"]) if record.get("source") else None,
    )

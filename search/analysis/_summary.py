"""What a finished search prints: the Pareto front, the baseline, the budget pruning saved, and
where to look next."""

from __future__ import annotations

import sys

import optuna
from optuna.trial import TrialState

from search import _attrs as attrs
from search._config import SearchConfig
from search._watch import MASKED_NOTE, watch_commands
from storage._urls import mask_url

SHOWN_PARAMS = (
    "learning_rate",
    "num_train_epochs",
    "per_device_train_batch_size",
    "warmup_ratio",
    "focal_gamma",
    "max_len",
    "markers",
    "pooling",
)


def pareto_rows(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's best trials (its Pareto front with several objectives), best first objective
    first."""
    try:
        best = study.best_trials
    except ValueError:
        return []
    return sorted(best, key=lambda t: tuple(-v for v in t.values))


def format_table(study: optuna.Study, trials: list[optuna.trial.FrozenTrial]) -> str:
    names = study.metric_names or [f"objective{i}" for i in range(len(study.directions))]
    params = [p for p in SHOWN_PARAMS if any(p in t.params for t in trials)]
    header = ["trial", *names, *params]
    rows = [header]
    for t in trials:
        values = [f"{v:.2f}" for v in t.values]
        rows.append([str(t.number), *values, *(_fmt(t.params.get(p)) for p in params)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "-" if value is None else str(value)


def steps_saved(trials: list[optuna.trial.FrozenTrial]) -> tuple[int, int]:
    """(optimizer steps run, steps planned) over finished trials: what pruning saved."""
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    runs = [attrs.trial_run(t) for t in done]
    spent = sum(int(run.get("steps", 0)) for run in runs)
    planned = sum(int(run.get("total_steps", 0)) for run in runs)
    return spent, planned


def baseline(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The KLUE recipe's trial: the run that finished, else its latest attempt."""
    runs = [t for t in study.get_trials(deepcopy=False) if attrs.is_baseline(t)]
    finished = [t for t in runs if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    return (finished or runs or [None])[-1]


def print_summary(study: optuna.Study, config: SearchConfig, elapsed: float) -> None:
    out = sys.stdout
    trials = study.get_trials(deepcopy=False)
    states = {s: sum(t.state == s for t in trials) for s in TrialState}
    print(
        f"\n{config.deployment.study}: {states[TrialState.COMPLETE]} complete, "
        f"{states[TrialState.PRUNED]} pruned, {states[TrialState.FAIL]} failed "
        f"({elapsed:.0f} s this run)",
        file=out,
    )
    front = pareto_rows(study)
    if front:
        title = "Pareto front" if len(study.directions) > 1 else "Best trial"
        print(f"\n{title}:\n{format_table(study, front)}", file=out)
    base = baseline(study)
    if base is not None and base.values:
        print(
            f"\nKLUE recipe (trial {base.number}): "
            + ", ".join(
                f"{n} {v:.2f}" for n, v in zip(study.metric_names or [], base.values, strict=False)
            ),
            file=out,
        )
    spent, planned = steps_saved(trials)
    if planned:
        print(
            f"Training steps: {spent} of the {planned} these trials would have run without "
            f"pruning ({1 - spent / planned:.0%} saved)",
            file=out,
        )
    url = mask_url(config.deployment.storage)
    watch = watch_commands(config.deployment.storage, config.deployment.artifacts)
    print("\nWatch it:   " + "\n            ".join(watch), file=out)
    print(
        f"Report:     python -m search.report --storage {url} --study {config.deployment.study}",
        file=out,
    )
    if url != config.deployment.storage:
        print(f"(above: {MASKED_NOTE})", file=out)

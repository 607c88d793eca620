"""The study's note in optuna-dashboard: how the search is set up, what it set out to find out
(each hypothesis with its verdict so far), and the command that writes the full report."""

from __future__ import annotations

from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from common._cli import UserError
from search import _attrs as attrs
from search._config import SearchConfig, SearchPlan
from search.analysis._hypotheses import check_hypothesis
from search.analysis._verdicts import evaluate
from storage._urls import mask_url


def study_note(study: optuna.Study, config: SearchConfig) -> str:
    """Markdown for the study's dashboard note."""
    trials = study.get_trials(deepcopy=False)
    states = {s: sum(t.state == s for t in trials) for s in TrialState}
    names = list(study.metric_names or config.plan.objectives)
    where = config.deployment
    lines = [
        f"## {where.study}",
        "",
        f"- **Model** {config.plan.model}; **objectives** {', '.join(names)} (maximized)",
        f"- **Sampler** {config.plan.sampler}; **pruner** {_pruner(config.plan)}",
        f"- **Evaluations** {_cadence(config.plan)}",
        f"- **Data** {_data(study)}",
        f"- **Trials** {states[TrialState.COMPLETE]} complete, {states[TrialState.PRUNED]} "
        f"pruned, {states[TrialState.FAIL]} failed, {states[TrialState.RUNNING]} running",
        "",
        "### Hypotheses",
        "",
        *(_verdict_lines(study, trials, names) or ["none recorded (search.run --hypothesis)"]),
        "",
        "### Report",
        "",
        f"    python -m search.report --storage {mask_url(where.storage)} --study {where.study}",
    ]
    return "\n".join(lines) + "\n"


def _pruner(plan: SearchPlan) -> str:
    if plan.pruner != "moasha":
        return plan.pruner
    return (
        f"MO-ASHA (eta {plan.reduction_factor}, rungs at evaluations "
        f"{plan.min_resource}, {plan.min_resource * plan.reduction_factor}, ...)"
    )


def _cadence(plan: SearchPlan) -> str:
    if plan.eval_steps:
        return f"every {plan.eval_steps} steps"
    if plan.evals_per_run:
        return f"{plan.evals_per_run} per run"
    return f"{plan.evals_per_epoch} per epoch"


def _data(study: optuna.Study) -> str:
    data = attrs.study_data(study)
    if not data:
        return "not recorded"
    return (
        f"{data.get('train_rows', '?')} train / {data.get('dev_rows', '?')} dev rows, "
        f"fingerprint {str(data.get('fingerprint', '?'))[:12]}"
    )


def _verdict_lines(
    study: optuna.Study, trials: Sequence[FrozenTrial], names: Sequence[str]
) -> list[str]:
    lines = []
    for entry in attrs.study_hypotheses(attrs.study_attrs(study)):
        text = entry["text"]
        try:
            hypothesis = check_hypothesis(text, names)
        except UserError as exc:
            lines.append(f"- *{text}*: not checkable ({exc})")
            continue
        if hypothesis is None:
            lines.append(f"- *{text}*: free text, not checked automatically")
            continue
        verdict = evaluate(hypothesis, trials, names)
        lines.append(f"- *{text}*: **{verdict.verdict}**, {verdict.reason}")
    return lines

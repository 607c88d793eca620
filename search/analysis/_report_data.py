"""What a study found, as plain JSON-ready data: trial counts, the Pareto front, the best trial
per objective (and per model) against the KLUE-recipe baseline, fANOVA parameter importances per
objective and a verdict per recorded hypothesis. Presenting and writing it is elsewhere
(:mod:`search.analysis._report_markdown`, :mod:`search.analysis._report_configs`,
:mod:`search.report`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.importance import FanovaImportanceEvaluator
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from common._cli import UserError
from search import _attrs as attrs
from search._identity import CHANGES_ATTR, describe_changes
from search.analysis._hypotheses import check_hypothesis
from search.analysis._studies import objective_names
from search.analysis._summary import SHOWN_PARAMS, baseline, pareto_rows
from search.analysis._verdicts import evaluate

IMPORTANCE_SEED = 0  # fANOVA's random forest: the same study gives the same importances
FEW_TRIALS = 10  # fewer complete trials: importances are mostly noise
PARAM_COLUMNS = ("model", *SHOWN_PARAMS)
COUNTED = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.FAIL,
    TrialState.RUNNING,
    TrialState.WAITING,
)


def build_report(study: optuna.Study) -> dict[str, Any]:
    """Everything but plots and files, as JSON-ready data."""
    trials = study.get_trials(deepcopy=False)
    names = objective_names(study)
    front = pareto_rows(study)
    best = best_per_objective(trials, names, study.directions)
    importances = {name: param_importances(study, i, trials) for i, name in enumerate(names)}
    recorded = attrs.study_attrs(study)
    return {
        "study": study.study_name,
        "objectives": names,
        "model": recorded.get(attrs.MODEL),
        "data": recorded.get(attrs.DATA),
        "sampler": recorded.get("sampler"),
        "seed": recorded.get("seed"),
        "worker_seeds": recorded.get("worker_seeds"),
        "startup_design": _design_summary(recorded.get(attrs.STARTUP_DESIGN)),
        "explore": recorded.get("explore"),
        "pruner": recorded.get("pruner"),
        "code_version": recorded.get("code_version"),
        "changes": describe_changes(recorded.get(CHANGES_ATTR, [])),
        "counts": {state.name.lower(): sum(t.state == state for t in trials) for state in COUNTED},
        "pareto": [trial_row(t, names) for t in front],
        "best": {name: trial_row(t, names) for name, t in best.items()},
        "best_by_model": best_by_model(trials, names, study.directions),
        "baseline": baseline_summary(baseline(study), best, names),
        "importances": importances,
        "hypotheses": hypothesis_verdicts(study, trials, names, importances),
    }


def best_per_objective(
    trials: Sequence[FrozenTrial], names: Sequence[str], directions: Sequence[StudyDirection]
) -> dict[str, FrozenTrial]:
    """Per objective, its best complete trial; a tie is broken by the other objectives in
    order (so the pick is never dominated by a trial it ties with), then by the earlier trial."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    signs = [1 if d == StudyDirection.MAXIMIZE else -1 for d in directions]
    best = {}
    for i, name in enumerate(names):
        if complete:
            order = [i, *(j for j in range(len(names)) if j != i)]
            best[name] = max(
                complete,
                key=lambda t, order=order: (*(signs[j] * t.values[j] for j in order), -t.number),
            )
    return best


def best_by_model(
    trials: Sequence[FrozenTrial], names: Sequence[str], directions: Sequence[StudyDirection]
) -> dict[str, dict[str, Any]]:
    """Per model, when the study compares several: its best trial per objective and counts."""
    by_model: dict[str, list[FrozenTrial]] = {}
    for t in trials:
        model = attrs.trial_model(t)
        if model is not None:
            by_model.setdefault(str(model), []).append(t)
    if len(by_model) < 2:
        return {}
    out = {}
    for model, group in by_model.items():
        best = best_per_objective(group, names, directions)
        states = {s.name.lower(): sum(t.state == s for t in group) for s in COUNTED[:3]}
        out[model] = {"best": {n: trial_row(t, names) for n, t in best.items()}, **states}
    return out


def trial_row(trial: FrozenTrial, names: Sequence[str]) -> dict[str, Any]:
    params = {p: trial.params[p] for p in PARAM_COLUMNS if p in trial.params}
    return {
        "trial": trial.number,
        "values": dict(zip(names, trial.values, strict=True)),
        "params": params,
    }


def baseline_summary(
    base: FrozenTrial | None, best: Mapping[str, FrozenTrial], names: Sequence[str]
) -> dict[str, Any] | None:
    """The KLUE-recipe trial's outcome and how far each objective's best trial is above it."""
    if base is None:
        return None
    summary: dict[str, Any] = {"trial": base.number, "state": base.state.name.lower()}
    if base.state == TrialState.COMPLETE and base.values:
        summary["values"] = dict(zip(names, base.values, strict=True))
        summary["best_above"] = {
            name: best[name].values[i] - base.values[i]
            for i, name in enumerate(names)
            if name in best
        }
    else:
        evals = attrs.trial_evals(base)
        if evals:
            last = max(evals, key=int)
            summary["last_evaluation"] = {
                "step": int(last),
                **dict(zip(names, evals[last], strict=False)),
            }
    return summary


def param_importances(
    study: optuna.Study, index: int, trials: Sequence[FrozenTrial]
) -> dict[str, Any]:
    """``{"importances": {param: share}}`` for one objective, or ``{"note": why not}``."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(complete) < 2:
        return {"note": f"needs at least 2 complete trials, the study has {len(complete)}"}
    varying = {
        p for t in complete for p in t.params if len({repr(c.params.get(p)) for c in complete}) > 1
    }
    if not varying:
        return {"note": "no searched parameter varies among the complete trials"}
    try:
        ranking = optuna.importance.get_param_importances(
            study,
            evaluator=FanovaImportanceEvaluator(seed=IMPORTANCE_SEED),
            target=lambda t: t.values[index],
        )
    except (ValueError, RuntimeError) as exc:
        return {"note": f"could not be computed: {exc}"}
    # a parameter that never varied has no importance to speak of, not an importance of 0
    result: dict[str, Any] = {
        "importances": {p: float(v) for p, v in ranking.items() if p in varying}
    }
    if len(complete) < FEW_TRIALS:
        result["caveat"] = (
            f"these rest on {len(complete)} complete trials; below about {FEW_TRIALS} they "
            "are mostly noise"
        )
    return result


def rankings(report: Mapping[str, Any]) -> dict[str, dict[str, float] | None]:
    """Per objective, the report's importance ranking (None where there is none)."""
    return {name: r.get("importances") for name, r in report["importances"].items()}


def hypothesis_verdicts(
    study: optuna.Study,
    trials: Sequence[FrozenTrial],
    names: Sequence[str],
    importances: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """One verdict per hypothesis the study recorded (free text: marked not checkable)."""
    verdicts = []
    for entry in attrs.study_hypotheses(attrs.study_attrs(study)):
        text, since = entry["text"], entry.get("from_trial", 0)
        try:
            hypothesis = check_hypothesis(text, names)
        except UserError as exc:
            verdicts.append(_unchecked(text, since, str(exc)))
            continue
        if hypothesis is None:
            why = "free text: cannot be checked automatically; see the importances"
            verdicts.append(_unchecked(text, since, why))
            continue
        ranking = importances[hypothesis.objective].get("importances")
        verdict = evaluate(hypothesis, trials, names, ranking).to_json()
        verdicts.append({**verdict, "from_trial": since})
    return verdicts


def _unchecked(text: str, since: int, reason: str) -> dict[str, Any]:
    return {
        "text": text,
        "from_trial": since,
        "checked": False,
        "verdict": "not checkable",
        "reason": reason,
    }


def _design_summary(design: Any) -> dict[str, Any] | None:
    """How TPE's start-up trials were chosen: the design's method, seed and size (not its points,
    which the study keeps)."""
    if not isinstance(design, dict):
        return None
    return {
        "method": design.get("method"),
        "seed": design.get("seed"),
        "trials": len(design.get("points") or []),
    }

"""``python -m search.report``: what a study found, printed and written to a directory.

The report holds the trial counts, the Pareto front, the best trial per objective against the
KLUE-recipe baseline, parameter importances per objective, a verdict per hypothesis, plots (HTML,
and PNG where a Chrome/Chromium is installed) and the best configurations as files
``python -m objectives.finetune --config FILE`` accepts. :func:`build_report` gathers it as
plain JSON-ready data; :func:`render_markdown` and :func:`main` only present and write it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.importance import FanovaImportanceEvaluator
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from common.cli import ArgumentParser, UserError, quiet_libraries, run_main
from common.files import safe_name
from objectives.hparams import hparams_from_mapping
from search import attrs
from search.analysis import plots
from search.analysis.hypotheses import check_hypothesis, evaluate
from search.analysis.importances_view import METHOD as IMPORTANCE_METHOD
from search.analysis.importances_view import publish_importances
from search.analysis.summary import SHOWN_PARAMS, baseline, pareto_rows
from search.identity import CHANGES_ATTR, describe_changes
from storage.reading import open_existing
from storage.urls import default_storage_url, mask_url

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


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.report",
        description="Report a search: Pareto front, importances, hypotheses, plots, best configs.",
    )
    add_study_flags(p)
    p.add_argument("--out", type=Path, help="output directory (default: reports/<study>)")
    p.add_argument("--no-png", action="store_true", help="HTML plots only")
    return p


def add_study_flags(p: ArgumentParser) -> None:
    """``--storage`` and ``--study``, as every command that reads a finished search takes them."""
    p.add_argument("--storage", help="the search's storage URL (default: sqlite:///searches.db)")
    p.add_argument("--study", help="study name (default: the storage's only study)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial
    url, study = open_study(args.storage, args.study)
    out = args.out if args.out is not None else Path("reports") / safe_name(study.study_name)
    report = build_report(study)
    report["storage"] = mask_url(url)
    report["out"] = str(out)
    out.mkdir(parents=True, exist_ok=True)
    report["configs"] = export_configs(study, report, out)
    figs = plots.figures(study, report["objectives"], _rankings(report))
    report["dashboard_plots"] = publish_importances(study, figs)
    plot_dir = out / "plots"
    report["plots"] = [p.relative_to(out).as_posix() for p in plots.write_html(figs, plot_dir)]
    png_skipped = "--no-png given" if args.no_png else None
    if not args.no_png:
        pngs, png_skipped = plots.write_png(figs, plot_dir)
        report["plots"] += [p.relative_to(out).as_posix() for p in pngs]
    report["png_skipped"] = png_skipped
    text = render_markdown(report)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(text)
    if png_skipped and not args.no_png:
        print(f"PNG plots skipped: {png_skipped}", file=sys.stderr)
    print(f"report written to {out}/ (report.md, report.json, plots/, configs)", file=sys.stderr)
    return 0


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
        evals = base.user_attrs.get(attrs.EVALS_ATTR) or {}
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


def _rankings(report: Mapping[str, Any]) -> dict[str, dict[str, float] | None]:
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


def export_configs(study: optuna.Study, report: Mapping[str, Any], out: Path) -> dict[str, str]:
    """Write ``best_<objective>.json`` and ``pareto_trial_<N>.json``; returns {file: trial}."""
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    files: dict[str, int] = {}
    for name, row in report["best"].items():
        files[f"best_{plots.objective_slug(name)}.json"] = row["trial"]
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
    if trial.user_attrs.get(attrs.RUNTIME):  # threads, precision, cadence: for an exact rerun
        config["runtime"] = trial.user_attrs[attrs.RUNTIME]
    return config


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as markdown (also what the command prints)."""
    names = report["objectives"]
    lines = [f"# Search report: {report['study']}", "", *_header(report), ""]
    counts = report["counts"]
    lines += ["## Trials", "", _table(list(counts), [[str(v) for v in counts.values()]]), ""]
    title = "Pareto front" if len(names) > 1 else "Best trial"
    lines += [f"## {title}", "", _trial_table(report["pareto"], names, report["configs"]), ""]
    lines += ["## Best trial per objective", "", *_best_lines(report), ""]
    if report.get("best_by_model"):
        lines += ["## Best trial per model", "", *_model_lines(report), ""]
    lines += ["## KLUE-recipe baseline", "", _baseline_line(report), ""]
    lines += ["## Parameter importances (fANOVA)", "", f"Method: {IMPORTANCE_METHOD}.", ""]
    for name, result in report["importances"].items():
        lines += [f"### {name}", "", _importance_text(result), ""]
    if report["hypotheses"]:
        lines += ["## Hypotheses", ""]
        for verdict in report["hypotheses"]:
            lines += [*_hypothesis_lines(verdict, report["importances"]), ""]
    lines += ["## Plots", "", *(f"- `{p}`" for p in report.get("plots", []))]
    if report.get("png_skipped"):
        lines.append(f"- PNG files skipped: {report['png_skipped']}")
    if not report.get("plots"):
        lines.append("_Nothing to plot yet._")
    lines += ["", "## Configurations", ""]
    lines += [f"- `{file}`: {what}" for file, what in report.get("configs", {}).items()]
    if not report.get("configs"):
        lines.append("_No complete trials to export._")
    else:
        first = Path(report.get("out", ".")) / next(iter(report["configs"]))
        lines += ["", f"Run one: `python -m objectives.finetune --config {first} --out runs/best`"]
    return "\n".join(lines) + "\n"


def _header(report: Mapping[str, Any]) -> list[str]:
    parts = [f"Objectives {', '.join(report['objectives'])}"]
    labels = {"model": "model", "sampler": "sampler", "pruner": "pruner", "storage": "storage"}
    parts += [f"{label} `{report[key]}`" for key, label in labels.items() if report.get(key)]
    if report.get("code_version"):
        parts.append(f"code {report['code_version']}")
    lines = ["; ".join(parts) + "."]
    data = report.get("data")
    if isinstance(data, Mapping):
        lines.append(
            f"Data: train `{data.get('train')}` ({data.get('train_rows')} rows), dev "
            f"`{data.get('dev')}` ({data.get('dev_rows')} rows), fingerprint "
            f"{str(data.get('fingerprint'))[:12]}."
        )
    lines += report.get("changes") or []
    if isinstance(data, Mapping) and data.get("dev_absent_labels"):
        lines.append(absent_note(data["dev_absent_labels"], data.get("labels") or {}))
    return lines


def absent_note(absent: Sequence[str], labels: Mapping[str, Any]) -> str:
    """Classes dev never uses count 0.5 each in AUPRC, which caps it below 100."""
    total = len(labels.get("names") or []) or len(absent)
    cap = 100 * (total - len(absent) / 2) / total
    shown = ", ".join(absent[:5]) + (", ..." if len(absent) > 5 else "")
    return (
        f"Dev has no example of {len(absent)} of the {total} labels ({shown}): each counts 0.5 "
        f"in AUPRC whatever the model, so AUPRC is at most {cap:.1f}."
    )


def _table(header: Sequence[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def _trial_table(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str], configs: Mapping[str, str]
) -> str:
    if not rows:
        return "_No complete trials yet._"
    params = [p for p in PARAM_COLUMNS if any(p in r["params"] for r in rows)]
    file_of = {what: file for file, what in configs.items() if file.startswith("pareto_")}
    body = [
        [
            str(r["trial"]),
            *(f"{r['values'][n]:.2f}" for n in names),
            *(_fmt(r["params"].get(p)) for p in params),
            f"`{file_of.get('trial ' + str(r['trial']), '-')}`",
        ]
        for r in rows
    ]
    return _table(["trial", *names, *params, "config"], body)


def _best_lines(report: Mapping[str, Any]) -> list[str]:
    if not report["best"]:
        return ["_No complete trials yet._"]
    lines = []
    for name, row in report["best"].items():
        others = ", ".join(f"{n} {v:.2f}" for n, v in row["values"].items() if n != name)
        extra = f" ({others})" if others else ""
        config = f"best_{plots.objective_slug(name)}.json"
        lines.append(
            f"- {name}: trial {row['trial']}, {row['values'][name]:.2f}{extra}; config `{config}`"
        )
    return lines


def _model_lines(report: Mapping[str, Any]) -> list[str]:
    lines = []
    for model, entry in report["best_by_model"].items():
        best = ", ".join(
            f"{name} {row['values'][name]:.2f} (trial {row['trial']})"
            for name, row in entry["best"].items()
        )
        counts = f"{entry['complete']} complete, {entry['pruned']} pruned, {entry['fail']} failed"
        lines.append(f"- `{model}`: {best or 'no complete trial'}; {counts}")
    return lines


def _baseline_line(report: Mapping[str, Any]) -> str:
    base = report["baseline"]
    if base is None:
        return "_No KLUE-recipe trial in this study._"
    head = f"Trial {base['trial']} ({base['state']})"
    if "values" in base:
        values = ", ".join(f"{n} {v:.2f}" for n, v in base["values"].items())
        above = ", ".join(
            f"{n} {d:+.2f} (trial {report['best'][n]['trial']})"
            for n, d in base["best_above"].items()
        )
        return f"{head}: {values}. The best trials differ from it by: {above}."
    last = base.get("last_evaluation")
    if last:
        values = ", ".join(f"{n} {v:.2f}" for n, v in last.items() if n != "step")
        return f"{head}: no final values; last evaluation at step {last['step']}: {values}."
    return f"{head}: no values recorded."


def _importance_text(result: Mapping[str, Any]) -> str:
    ranking = result.get("importances")
    if not ranking:
        return f"_Not available: {result.get('note', 'no importances')}._"
    table = _table(["parameter", "importance"], [[p, f"{v:.3f}"] for p, v in ranking.items()])
    return f"_Caution: {result['caveat']}._\n\n{table}" if result.get("caveat") else table


def _hypothesis_lines(
    verdict: Mapping[str, Any], importances: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    lines = [f'### "{verdict["text"]}" (from trial {verdict["from_trial"]})', ""]
    if not verdict["checked"]:
        lines.append(f"**{verdict['verdict']}**: {verdict['reason']}")
        for name, result in importances.items():
            top = list((result.get("importances") or {}).items())[:5]
            if top:
                shown = ", ".join(f"{p} {v:.2f}" for p, v in top)
                lines.append(f"- most important for {name}: {shown}")
        return lines
    lines += [f"**{verdict['verdict']}**: {verdict['reason']}", ""]
    groups = [
        (verdict["condition"], verdict["with_condition"]),
        ("otherwise", verdict["without_condition"]),
    ]
    rows = [
        [label, str(g["n"]), _num(g["mean"]), _num(g["median"]), _num(g["best"]), str(g["pruned"])]
        for label, g in groups
    ]
    lines += [_table(["trials", "complete", "mean", "median", "best", "pruned"], rows), ""]
    p_value = "-" if verdict["p_value"] is None else f"{verdict['p_value']:.3g}"
    importance = "-" if verdict["importance"] is None else f"{verdict['importance']:.3f}"
    lines.append(
        f"Difference of means: {_num(verdict['difference'], signed=True)}; Mann-Whitney "
        f"p = {p_value}; importance of {verdict['param']} for {verdict['objective']}: {importance}."
    )
    for label, g in groups:
        lines.append(f"- {label}: {_side_text(g)}")
    return lines


def _side_text(group: Mapping[str, Any]) -> str:
    """The complete trials of one side with their values, then the pruned ones."""
    values = group.get("values") or [None] * len(group["trials"])
    complete = ", ".join(f"{n} ({_num(v)})" for n, v in zip(group["trials"], values, strict=True))
    text = f"trials {complete or 'none'}"
    pruned = group.get("pruned_trials") or []
    if pruned:
        text += f"; pruned {', '.join(map(str, pruned))}"
    elif group.get("pruned"):
        text += f"; {group['pruned']} pruned"
    return text


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "-" if value is None else str(value)


if __name__ == "__main__":
    run_main(main)

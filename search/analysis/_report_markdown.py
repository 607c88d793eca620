"""A search report (the data :func:`search.analysis._report_data.build_report` gathers, plus the
plots and configuration files written beside it) as markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from search.analysis._importances_view import METHOD as IMPORTANCE_METHOD
from search.analysis._plots import objective_slug
from search.analysis._report_data import PARAM_COLUMNS


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


def _every(k: int) -> str:
    """``every 3rd trial``; ``every trial`` for 1."""
    if k == 1:
        return "every trial"
    suffix = "th" if k % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"every {k}{suffix} trial"


def _header(report: Mapping[str, Any]) -> list[str]:
    parts = [f"Objectives {', '.join(report['objectives'])}"]
    labels = {"model": "model", "sampler": "sampler", "pruner": "pruner", "storage": "storage"}
    parts += [f"{label} `{report[key]}`" for key, label in labels.items() if report.get(key)]
    if report.get("seed") is not None:
        derived = report.get("worker_seeds")
        parts.append(f"seed {report['seed']} (a worker's sampler seed: `{derived}`)")
    design = report.get("startup_design")
    if design:
        parts.append(
            f"TPE's first {design['trials']} trials from a design ({design['method']}, "
            f"seed {design['seed']})"
        )
    if report.get("explore"):
        parts.append(f"{_every(int(report['explore']))} after them drawn at random")
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
        config = f"best_{objective_slug(name)}.json"
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

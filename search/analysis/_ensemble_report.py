"""An ensemble's scores (members, top-K soft vote, greedy selection), its report and its
submission files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from common._files import write_text_atomic
from objectives._metrics import soft_vote
from objectives.data._labels import LabelSet
from objectives.data._predictions import write_predictions
from search.analysis._members import Member
from search.analysis._voting import METRIC_NAMES, greedy_select, scores


def build_ensemble(
    members: list[Member],
    skipped: list[dict[str, Any]],
    gold: np.ndarray,
    labels: LabelSet,
    metric: str,
) -> dict[str, Any]:
    """Members' scores, the top-K soft vote, the greedy selection, and who was left out why."""
    pool = [m.dev.probs for m in members]
    rows = []
    for position, (m, probs) in enumerate(zip(members, pool, strict=True), start=1):
        row = {
            "trial": m.trial.number,
            "position": position,
            **_rounded(scores(probs, gold, labels)),
        }
        row["params"] = m.trial.params
        rows.append(row)
    best = {name: max(r[name] for r in rows) for name in METRIC_NAMES}
    numbers = [m.trial.number for m in members]
    vote = _rounded(scores(soft_vote(pool), gold, labels))
    selection = greedy_select(pool, gold, labels, metric)
    chosen = [numbers[i] for i in selection.chosen]
    greedy = _rounded(scores(soft_vote([pool[i] for i in selection.chosen]), gold, labels))
    left_out = [*skipped]
    left_out += [{"trial": numbers[i], "reason": why} for i, why in selection.left_out.items()]
    return {
        "members": rows,
        "best_member": {name: max(rows, key=lambda r: r[name])["trial"] for name in METRIC_NAMES},
        "soft_vote": {
            "trials": numbers,
            **vote,
            "beats_best_member": {name: vote[name] > best[name] for name in METRIC_NAMES},
            "submission": f"submission_top{len(members)}.csv",
        },
        "greedy": {
            "trials": chosen,
            "path": [
                {"added": numbers[i], metric: round(v, 4)}
                for i, v in zip(selection.chosen, selection.path, strict=True)
            ],
            **greedy,
            "beats_best_member": {name: greedy[name] > best[name] for name in METRIC_NAMES},
            "submission": "submission.csv",
        },
        "left_out": left_out,
    }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def test_summary(members: list[Member], test: Path | None, data: dict[str, Any]) -> dict:
    return {
        "file": str(test) if test is not None else data.get("test"),
        "checked": test is not None,
        "rows": len(members[0].test),
        "fingerprint": data.get("test_fingerprint"),
    }


def write_outputs(
    out: Path, report: dict[str, Any], members: list[Member], labels: LabelSet
) -> None:
    """Submissions from the stored test probabilities (when there are some), then the report."""
    out.mkdir(parents=True, exist_ok=True)
    by_number = {m.trial.number: m for m in members}
    for key in ("greedy", "soft_vote"):
        part = report[key]
        if report["test"] is None:
            part["submission"] = None
            continue
        chosen = [by_number[n] for n in part["trials"]]
        probs = soft_vote([m.test.probs for m in chosen])
        write_predictions(out / part["submission"], chosen[0].test.ids, probs, labels)
    write_text_atomic(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_text_atomic(out / "report.txt", render_text(report) + "\n")


def render_text(report: dict[str, Any]) -> str:
    """A short plain-text report: members, the two ensembles against the best member, who was
    left out and why, and the submission files."""
    metric = METRIC_NAMES[report["metric"]]
    by = "non-dominated rank (ties by micro-F1)" if report["by"] == "pareto" else report["by"]
    lines = [
        f"Ensemble of study {report['study']}: top {report['top']} trials by {by}; greedy "
        f"selection by dev {metric} on {report['dev']['rows']} dev examples",
        "",
        f"{'':24}{'micro-F1':>9}{'AUPRC':>9}",
    ]
    for r in report["members"]:
        lines.append(f"{'trial ' + str(r['trial']):24}{r['micro_f1']:9.2f}{r['auprc']:9.2f}")
    for key, name in (("soft_vote", f"top-{report['top']} soft vote"), ("greedy", "greedy")):
        part = report[key]
        beats = ", ".join(
            f"{METRIC_NAMES[m]} {'yes' if b else 'no'}"
            for m, b in part["beats_best_member"].items()
        )
        lines.append(
            f"{name:24}{part['micro_f1']:9.2f}{part['auprc']:9.2f}   trials "
            f"{', '.join(map(str, part['trials']))}; beats the best member: {beats}"
        )
    if report["left_out"]:
        lines += ["", "Left out:"]
        lines += [f"  trial {r['trial']}: {r['reason']}" for r in report["left_out"]]
    lines.append("")
    if report["test"] is None:
        lines.append("No submission: the study stores no test predictions (run with --test).")
    else:
        out = report["out"]
        lines.append(
            f"Submissions ({report['test']['rows']} test rows, from stored probabilities): "
            f"{out}/{report['greedy']['submission']} (greedy), "
            f"{out}/{report['soft_vote']['submission']} (top-{report['top']} soft vote)"
        )
    return "\n".join(lines)

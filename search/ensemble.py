"""``python -m search.ensemble``: an ensemble of a study's top trials, without retraining.

Every trial stores its dev (and, with ``search.run --test``, test) class probabilities as
Optuna artifacts. This command ranks the complete trials (by non-dominated rank, ties by
micro-F1, or by one objective), takes the top K that stored probabilities, scores each member,
their soft vote and a greedy ensemble selection on the study's dev set with KLUE's metrics, and
writes a report and submission files made from the STORED test probabilities. Everything is read
and checked before anything is written; bad input is one line and exit code 2.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.artifacts import download_artifact
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import FrozenTrial, TrialState

from common.cli import ArgumentParser, UserError, quiet_libraries, run_main
from common.files import write_text_atomic
from objectives.data.dataset import Dataset, read_dataset
from objectives.data.labels import LabelSet
from objectives.data.predictions import Predictions, read_predictions, write_predictions
from objectives.metrics import soft_vote
from search import attrs
from search.analysis.voting import (
    METRIC_NAMES,
    greedy_select,
    order_by,
    pareto_order,
    scores,
)
from search.artifacts import reader_store
from search.attrs import PREDICTIONS_ATTR, TEST_PREDICTIONS_ATTR
from search.config import OBJECTIVES
from search.datafiles import locate, missing
from search.report import add_study_flags, objective_names, open_study
from storage.artifacts import ArtifactStore
from storage.urls import mask_url

RANKINGS = ("pareto", "f1", "auprc")
NO_PROBS = "no stored probabilities (it ran without an artifact store)"


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.ensemble",
        description="Soft-vote the top trials of a study on their stored probabilities.",
    )
    add_study_flags(p)
    p.add_argument("--top", type=int, required=True, help="K: how many top trials to consider")
    p.add_argument(
        "--by", default="pareto", choices=RANKINGS, help="rank trials by: pareto (ties by F1)"
    )
    p.add_argument(
        "--metric", default="f1", choices=tuple(OBJECTIVES), help="what greedy selection maximizes"
    )
    p.add_argument(
        "--dev",
        type=Path,
        help="the study's dev file where it moved, or a directory to find it in by fingerprint",
    )
    p.add_argument("--test", type=Path, help="check the stored test predictions against this file")
    p.add_argument("--artifacts", help="DIR or s3://BUCKET/PREFIX (default: the study's record)")
    p.add_argument("--out", type=Path, required=True, help="directory for report and submissions")
    return p


@dataclass(frozen=True)
class Member:
    """One trial of the ensemble with its stored probabilities."""

    trial: FrozenTrial
    dev: Predictions
    test: Predictions | None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.top < 1:
        raise UserError(f"--top: must be at least 1, got {args.top}")
    if args.by not in RANKINGS:
        raise UserError(f"--by: {args.by!r} is not one of {', '.join(RANKINGS)}")
    if args.metric not in OBJECTIVES:
        raise UserError(f"--metric: {args.metric!r} is not one of {', '.join(OBJECTIVES)}")
    metric = OBJECTIVES[args.metric]
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, study = open_study(args.storage, args.study)
    store = reader_store(args.artifacts, study, url)

    trials, skipped = pick_trials(study, args.top, args.by)
    data = attrs.study_data(study)
    labels = study_labels(study, data)
    dev = load_dev(data, args.dev, labels)
    need_test = args.test is not None or "test_fingerprint" in data
    need_test = need_test or any(attrs.trial_record(t, TEST_PREDICTIONS_ATTR) for t in trials)
    with tempfile.TemporaryDirectory() as tmp:
        members = [load_member(store, t, labels, Path(tmp), need_test) for t in trials]
    check_ids(dev_ids_source(args.dev, data), dev, [(m.trial.number, m.dev) for m in members])
    check_fingerprint("--dev" if args.dev else "the study's dev file", dev, data, "dev")
    if need_test:
        check_test(members, args.test, data, labels)

    gold = np.asarray([labels.id(ex.label) for ex in dev.examples])
    report = {
        "study": study.study_name,
        "storage": mask_url(url),
        "by": args.by,
        "metric": metric,
        "top": args.top,
        "dev": {"file": str(dev.path), "rows": len(dev), "fingerprint": dev.fingerprint},
        "test": _test_summary(members, args.test, data) if need_test else None,
        "out": str(args.out),
        **build_ensemble(members, skipped, gold, labels, metric),
    }
    write_outputs(args.out, report, members, labels)
    text = render_text(report)
    print(text)
    print(
        f"ensemble written to {args.out}/ (report.json, report.txt, submissions)", file=sys.stderr
    )
    return 0


def pick_trials(
    study: optuna.Study, top: int, by: str
) -> tuple[list[FrozenTrial], list[dict[str, Any]]]:
    """The ``top`` best complete trials that stored dev probabilities, best first, and the better
    ranked trials skipped for having none (with the reason)."""
    names = objective_names(study)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise UserError(f"--study {study.study_name}: no complete trial yet")
    stored = sum(attrs.trial_record(t, PREDICTIONS_ATTR) is not None for t in complete)
    if stored == 0:
        raise UserError(
            f"--study {study.study_name}: no trial has stored probabilities "
            f"({len(complete)} complete trials; search.run stores them in its artifact store)"
        )
    if top > stored:
        raise UserError(
            f"--top {top}: only {stored} complete trials of study {study.study_name} "
            "have stored probabilities"
        )
    order = rank(complete, names, by)
    chosen: list[FrozenTrial] = []
    skipped: list[dict[str, Any]] = []
    for i in order:
        if len(chosen) == top:
            break
        if attrs.trial_record(complete[i], PREDICTIONS_ATTR) is not None:
            chosen.append(complete[i])
        else:
            skipped.append({"trial": complete[i].number, "reason": NO_PROBS})
    return chosen, skipped


def rank(trials: list[FrozenTrial], names: list[str], by: str) -> list[int]:
    """Indices of ``trials`` best first (see :func:`search.analysis.voting.pareto_order`)."""
    if by == "pareto":  # F1 only breaks ties within a front here
        f1 = [trial_metric(t, names, "micro_f1", missing=float("-inf")) for t in trials]
        return pareto_order([list(t.values) for t in trials], f1)
    if by == "f1":
        return order_by([trial_metric(t, names, "micro_f1") for t in trials])
    return order_by([trial_metric(t, names, "auprc") for t in trials])


def trial_metric(
    trial: FrozenTrial, names: list[str], metric: str, missing: float | None = None
) -> float:
    """A metric of a complete trial: its objective value, else its run's recorded best metrics."""
    if metric in names:
        return float(trial.values[names.index(metric)])
    recorded = attrs.run_metrics(trial)
    if metric not in recorded and missing is not None:
        return missing
    if metric not in recorded:
        raise UserError(f"trial {trial.number} records no {metric}; rank by another metric")
    return float(recorded[metric])


def study_labels(study: optuna.Study, data: dict[str, Any]) -> LabelSet:
    recorded = data.get("labels")
    if not recorded:
        raise UserError(
            f"--study {study.study_name}: records no label set (not a search.run study)"
        )
    return LabelSet(tuple(recorded["names"]), recorded["no_relation"])


def load_dev(data: dict[str, Any], dev: Path | None, labels: LabelSet) -> Dataset:
    """--dev (a directory is searched for the study's dev file), else the recorded file."""
    path = locate(dev, data, "dev", "--dev", labels)
    if path is None:
        raise missing(data, "dev", "--dev")
    return read_dataset(path, labels)


def dev_ids_source(dev: Path | None, data: dict[str, Any]) -> str:
    return f"--dev {dev}" if dev is not None else f"the study's dev file {data.get('dev')}"


def load_member(
    store: ArtifactStore, trial: FrozenTrial, labels: LabelSet, tmp: Path, test: bool
) -> Member:
    dev = _download(store, trial, PREDICTIONS_ATTR, labels, tmp)
    if not test:
        return Member(trial, dev, None)
    if attrs.trial_record(trial, TEST_PREDICTIONS_ATTR) is None:
        raise UserError(
            f"trial {trial.number}: no stored test probabilities (it ran without --test); "
            "choose a smaller --top or rerun the search with --test"
        )
    return Member(trial, dev, _download(store, trial, TEST_PREDICTIONS_ATTR, labels, tmp))


def _download(
    store: ArtifactStore, trial: FrozenTrial, attr: str, labels: LabelSet, tmp: Path
) -> Predictions:
    artifact_id = attrs.trial_record(trial, attr)
    path = tmp / f"trial-{trial.number}-{attr}.csv"
    try:
        download_artifact(artifact_store=store, artifact_id=artifact_id, file_path=str(path))
    except ArtifactNotFound:
        raise UserError(
            f"trial {trial.number}: {attr} {artifact_id} is not in the artifact store "
            "(give --artifacts DIR or s3://BUCKET/PREFIX)"
        ) from None
    return read_predictions(path, labels)


def first_mismatch(expected: tuple[str, ...], found: tuple[str, ...]) -> tuple[int, str, str]:
    """(1-based row, expected id, found id) of the first difference; '(none)' past an end."""
    for row in range(max(len(expected), len(found))):
        a = expected[row] if row < len(expected) else "(none)"
        b = found[row] if row < len(found) else "(none)"
        if a != b:
            return row + 1, a, b
    return 0, "", ""


def check_ids(source: str, data: Dataset, stored: list[tuple[int, Predictions]]) -> None:
    """The file's ids, in order, must be the stored predictions' ids."""
    ids = tuple(ex.id for ex in data.examples)
    for number, predictions in stored:
        if predictions.ids != ids:
            row, mine, theirs = first_mismatch(ids, predictions.ids)
            raise UserError(
                f"{source}: row {row} has id {mine!r}, but trial {number}'s stored predictions "
                f"have {theirs!r} there ({len(ids)} rows vs {len(predictions)})"
            )


def check_fingerprint(source: str, dataset: Dataset, data: dict[str, Any], split: str) -> None:
    """The file must be the data the study's trials predicted (same content hash)."""
    expected = data.get(f"{split}_fingerprint")
    if expected is None and split == "dev" and data.get("fingerprint"):
        expected = str(data["fingerprint"]).split("-")[1]  # studies before dev_fingerprint
    if expected is not None and dataset.fingerprint != expected:
        raise UserError(
            f"{source} {dataset.path}: fingerprint {dataset.fingerprint} is not the study's "
            f"{split} data ({expected}); give the {split} file the search ran with"
        )


def check_test(
    members: list[Member], test: Path | None, data: dict[str, Any], labels: LabelSet
) -> None:
    """All members predicted the same test ids; a --test file has exactly those ids and the
    study's recorded test fingerprint."""
    first = members[0]
    for m in members[1:]:
        if m.test.ids != first.test.ids:
            row, mine, theirs = first_mismatch(first.test.ids, m.test.ids)
            raise UserError(
                f"trial {m.trial.number}'s stored test predictions have id {theirs!r} at row "
                f"{row} where trial {first.trial.number}'s have {mine!r} (another test file)"
            )
    if test is None:
        return
    test = locate(test, data, "test", "--test", labels) or test
    dataset = read_dataset(test, labels, with_labels=False)
    check_ids(f"--test {test}", dataset, [(first.trial.number, first.test)])
    check_fingerprint("--test", dataset, data, "test")


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


def _test_summary(members: list[Member], test: Path | None, data: dict[str, Any]) -> dict:
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


if __name__ == "__main__":
    run_main(main)

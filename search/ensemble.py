"""``python -m search.ensemble``: an ensemble of a study's top trials, without retraining.

Every trial stores its dev (and, with ``search.run --test``, test) class probabilities as
Optuna artifacts. This command ranks the complete trials (by non-dominated rank, ties by
micro-F1, or by one objective), takes the top K that stored probabilities, scores each member,
their soft vote and a greedy ensemble selection on the study's dev set with KLUE's metrics, and
writes a report and submission files made from the STORED test probabilities. Everything is read
and checked before anything is written; bad input is one line and exit code 2.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import optuna

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from search import _attrs as attrs
from search._attrs import TEST_PREDICTIONS_ATTR
from search._config import OBJECTIVES
from search._study_artifacts import reader_store
from search.analysis._ensemble_checks import (
    check_fingerprint,
    check_ids,
    check_test,
    dev_ids_source,
    load_dev,
)
from search.analysis._ensemble_report import (
    build_ensemble,
    render_text,
    test_summary,
    write_outputs,
)
from search.analysis._members import load_member, pick_trials, study_labels
from search.analysis._studies import add_study_flags, open_study
from storage._urls import mask_url

RANKINGS = ("pareto", "f1", "auprc")


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.top < 1:
        raise UserError(f"--top: must be at least 1, got {args.top}")
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
        "test": test_summary(members, args.test, data) if need_test else None,
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


if __name__ == "__main__":
    run_main(main)

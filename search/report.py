"""``python -m search.report``: what a study found, printed and written to a directory.

The report holds the trial counts, the Pareto front, the best trial per objective against the
KLUE-recipe baseline, parameter importances per objective, a verdict per hypothesis, plots (HTML,
and PNG where a Chrome/Chromium is installed) and the best configurations as files
``python -m objectives.finetune --config FILE`` accepts. The data is gathered by
:mod:`search.analysis._report_data`, rendered by :mod:`search.analysis._report_markdown` and the
configurations written by :mod:`search.analysis._report_configs`; this module only reads the
flags and writes the directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import optuna

from common._cli import ArgumentParser, quiet_libraries, run_main
from common._files import safe_name
from search.analysis import _plots as plots
from search.analysis._importances_view import publish_importances
from search.analysis._report_configs import export_configs
from search.analysis._report_data import build_report, rankings
from search.analysis._report_markdown import render_markdown
from search.analysis._studies import add_study_flags, open_study
from storage._retry import StorageFull
from storage._urls import mask_url


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.report",
        description="Report a search: Pareto front, importances, hypotheses, plots, best configs.",
    )
    add_study_flags(p)
    p.add_argument("--out", type=Path, help="output directory (default: reports/<study>)")
    p.add_argument("--no-png", action="store_true", help="HTML plots only")
    return p


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
    figs = plots.figures(study, report["objectives"], rankings(report))
    try:
        report["dashboard_plots"] = publish_importances(study, figs)
    except StorageFull as exc:  # a study on a full disk is still reported on
        print(f"importance plots not saved to the study: {exc.lines()[0]}", file=sys.stderr)
        report["dashboard_plots"] = []
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


if __name__ == "__main__":
    run_main(main)

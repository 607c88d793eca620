"""The command line of ``python -m search.run``: every flag, its default and its help, grouped by
what it decides (the study, the data, the search, how trials run). Checks live where the config
is built (:mod:`search.config`)."""

from __future__ import annotations

from pathlib import Path

from common.cli import ArgumentParser, add_log_flags
from search.config import EVALS_PER_RUN, default
from search.pruning.stoppers import PRUNERS
from search.sampling import SAMPLERS


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.run",
        description="Search fine-tuning hyperparameters for relation extraction (KLUE-RE).",
    )
    _study_flags(p)
    _data_flags(p)
    _search_flags(p)
    _run_flags(p)
    return p


def _study_flags(p: ArgumentParser) -> None:
    p.add_argument(
        "--trials",
        type=int,
        default=40,
        help="finished trials this command adds to the study, whatever other launchers on the "
        "same study add (8 launchers of --trials 3 add 24)",
    )
    p.add_argument("--storage", help="sqlite:///FILE (default searches.db), postgresql://...")
    p.add_argument(
        "--storage-env",
        metavar="VAR",
        help="take the storage URL from environment variable VAR (keeps a password out of the "
        "command line; for PostgreSQL, PGPASSWORD also works with a URL without one)",
    )
    p.add_argument("--study", help="study name (default: from the model and the data)")
    p.add_argument(
        "--create-only",
        action="store_true",
        help="create the study (metadata, the KLUE recipe as trial 0) and exit: for a one-shot "
        "step before workers start",
    )
    p.add_argument(
        "--add-anyway",
        action="store_true",
        help="add trials to an existing --study although it was searched with other data, "
        "labels, no-relation label or model (what differs is recorded and reported)",
    )


def _data_flags(p: ArgumentParser) -> None:
    p.add_argument("--model", default="tiny", help="'tiny', a local directory or a hub id")
    p.add_argument("--train", type=Path, help="default: the built-in sample data")
    p.add_argument(
        "--dev", type=Path, help="labeled data each trial is scored on (give it with --train)"
    )
    p.add_argument("--test", type=Path, help="predicted by the final and ensemble commands")
    p.add_argument(
        "--labels",
        type=Path,
        help="relation list file (default: inferred from --train; KLUE's 30 in their order when "
        "every label is a KLUE relation)",
    )
    no_relation = default("no_relation")
    p.add_argument("--no-relation", default=no_relation, help="the label micro-F1 leaves out")
    p.add_argument("--cache-dir", type=Path, help="tokenized data and the tiny model")


def _search_flags(p: ArgumentParser) -> None:
    p.add_argument("--space", type=Path, help="search space TOML (default: the shipped one)")
    p.add_argument("--sampler", default=default("sampler"), help=f"one of {', '.join(SAMPLERS)}")
    p.add_argument("--pruner", default=default("pruner"), help=f"one of {', '.join(PRUNERS)}")
    p.add_argument("--objectives", default="f1,auprc", help="f1, auprc or f1,auprc")
    p.add_argument(
        "--hypothesis",
        action="append",
        default=[],
        help="what this search is meant to find out, e.g. 'focal_gamma > 1 improves f1' "
        "(repeat the flag for several; the report gives each a verdict)",
    )
    p.add_argument("--seed", type=int, help="sampler seed (workers offset it)")
    p.add_argument(
        "--reduction-factor", type=int, default=default("reduction_factor"), help="MO-ASHA's eta"
    )
    p.add_argument(
        "--min-resource",
        type=int,
        default=default("min_resource"),
        help="evaluations before rung 0",
    )


def _run_flags(p: ArgumentParser) -> None:
    p.add_argument("--workers", type=int, help="processes (default: one per GPU, or per core)")
    p.add_argument("--devices", help="GPU indices, one worker each, e.g. 0,1,2,3")
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    precision = default("precision")
    p.add_argument("--precision", default=precision, help="auto (fp16 on CUDA), fp16, bf16, no")
    p.add_argument("--evals-per-epoch", type=int, help="evaluate so often an epoch instead")
    help_run = f"evaluations at equal fractions of each run (default {EVALS_PER_RUN})"
    p.add_argument("--evals-per-run", type=int, help=help_run)
    p.add_argument(
        "--artifacts",
        help="where trial predictions go: DIR or s3://BUCKET/PREFIX (AWS_* environment; "
        "default: what the study records, else beside the storage)",
    )
    p.add_argument(
        "--worker-logs",
        help="worker processes' logs: DIR (default: logs/ beside the artifacts) or - for stderr",
    )
    p.add_argument(
        "--runner",
        default=default("runner"),
        help="what trains a trial: real (default), or MODULE:FUNCTION with "
        "objectives.training.loop.fine_tune's signature",
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        default=default("heartbeat_interval"),
        help="seconds between worker heartbeats",
    )
    p.add_argument(
        "--live-every",
        type=float,
        default=default("live_every"),
        help="seconds between refreshes of the dashboard's live learning curves and study note",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_log_flags(p)

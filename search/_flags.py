"""The command line of ``python -m search.run``: every flag, its default and its help, grouped by
what it decides (the study, the data, the search, how trials run), and the config parts the flags
become. Checks live in the config's types (:mod:`search._config`)."""

from __future__ import annotations

import os
from pathlib import Path

from common._cli import ArgumentParser, UserError, add_log_flags
from common._paths import cache_root
from search._config import (
    EVALS_PER_RUN,
    Deployment,
    SearchPlan,
    default,
    parse_devices,
    parse_objectives,
)
from search._datafiles import absolute
from search._devices import default_workers
from search._restarts import OUTAGE_LIMIT_S
from search._sampling import SAMPLERS
from search.pruning._pruner import PRUNERS
from storage._urls import default_storage_url
from storage._waits import RETRY_ENV, RETRY_FOR_S


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
    p.add_argument(
        "--total",
        type=int,
        help="instead of --trials: run until the study has this many finished trials in all, "
        "shared with every launcher that names the same total (a launcher started again or "
        "replaced runs only what is missing)",
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
    p.add_argument(
        "--startup",
        default=default("startup"),
        help="TPE's first 16 trials: design (every pair of categorical choices tried) or random",
    )
    p.add_argument(
        "--explore",
        type=int,
        default=default("explore"),
        metavar="K",
        help="after TPE's start-up, every K-th trial is drawn at random (0: none)",
    )
    p.add_argument("--pruner", default=default("pruner"), help=f"one of {', '.join(PRUNERS)}")
    p.add_argument("--objectives", default="f1,auprc", help="f1, auprc or f1,auprc")
    p.add_argument(
        "--hypothesis",
        action="append",
        default=[],
        help="what this search is meant to find out, e.g. 'focal_gamma > 1 improves f1' "
        "(repeat the flag for several; the report gives each a verdict)",
    )
    p.add_argument("--seed", type=int, help="sampler seed (worker k's is hashed from it and k)")
    p.add_argument(
        "--reduction-factor", type=int, default=default("reduction_factor"), help="MO-ASHA's eta"
    )
    p.add_argument(
        "--min-resource",
        type=int,
        default=default("min_resource"),
        help="evaluations before rung 0",
    )
    p.add_argument(
        "--min-trials",
        type=int,
        default=default("min_trials"),
        help="results a rung needs before MO-ASHA stops a trial there",
    )


def _run_flags(p: ArgumentParser) -> None:
    p.add_argument("--workers", type=int, help="processes (default: one per GPU, or per core)")
    p.add_argument("--devices", help="GPU indices, one worker each, e.g. 0,1,2,3")
    p.add_argument(
        "--timeout",
        type=float,
        help="stop starting trials after this many seconds; a storage that does not answer ends "
        f"the search (exit 2) once it has passed, or after {OUTAGE_LIMIT_S / 60:g} minutes "
        f"without it ({RETRY_ENV}: how long each storage call waits, default {RETRY_FOR_S:g} s)",
    )
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
        "objectives.training._loop.fine_tune's signature",
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


def build_plan(args) -> SearchPlan:
    """What to search, from the flags: checked before any data is read or storage opened."""
    return SearchPlan(
        trials=args.trials,
        model=args.model,
        space=absolute(args.space),
        sampler=args.sampler,
        startup=args.startup,
        explore=args.explore,
        pruner=args.pruner,
        objectives=parse_objectives(args.objectives),
        hypotheses=tuple(dict.fromkeys(h.strip() for h in args.hypothesis)),
        timeout=args.timeout,
        seed=args.seed,
        reduction_factor=args.reduction_factor,
        min_resource=args.min_resource,
        min_trials=args.min_trials,
        evals_per_epoch=args.evals_per_epoch or default("evals_per_epoch"),
        evals_per_run=_evals_per_run(args),
        runner=args.runner,
    )


def build_deployment(args, storage: str, study: str, artifacts: str) -> Deployment:
    """Where the search runs and stores, from the flags and what the launcher resolved: the
    storage URL, the study name and the artifact location."""
    devices = parse_devices(args.devices)
    workers = args.workers if args.workers is not None else default_workers(devices)
    if devices and args.workers is not None and args.workers != len(devices):
        raise UserError(f"--workers {args.workers} and --devices {args.devices} disagree")
    return Deployment(
        storage=storage,
        study=study,
        artifacts=artifacts,
        # a worker beyond the trials asked for would only wait
        workers=min(workers, args.trials),
        devices=devices[: args.trials],
        precision=args.precision,
        cache_dir=str(args.cache_dir or cache_root()),
        worker_logs=args.worker_logs,
        heartbeat_interval=args.heartbeat,
        live_every=args.live_every,
    )


def storage_url(args) -> str:
    """--storage, or the URL in the environment variable --storage-env names, or the default:
    the one place the storage URL is chosen."""
    if args.storage_env is None:
        return args.storage or default_storage_url()
    if args.storage:
        raise UserError("--storage and --storage-env: give one of them")
    url = os.environ.get(args.storage_env, "").strip()
    if not url:
        raise UserError(f"--storage-env {args.storage_env}: the variable is not set or empty")
    return url


def _evals_per_run(args) -> int | None:
    """The cadence: --evals-per-run, else per epoch when --evals-per-epoch is given, else the
    default chosen by replaying the learning-curve table (README, How efficient is the search)."""
    if args.evals_per_run is not None:
        return args.evals_per_run
    return None if args.evals_per_epoch is not None else EVALS_PER_RUN

"""``python -m search.run``: a hyperparameter search for relation extraction, start to finish.

Reads and checks everything first (flags, data, search space, storage, an existing study's
objectives) so that bad input writes nothing, creates the study once, then runs one worker in
this process or one worker process per device, with a progress bar over the whole study, and
ends by saying where to look.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import optuna

from common.cli import ArgumentParser, UserError, quiet_libraries, run_main
from common.files import safe_name
from common.paths import cache_root
from objectives.data.inputs import data_paths, describe_labels, load_trial_data
from objectives.data.labels import NO_RELATION
from objectives.models.names import tapt_base
from search.analysis.hypotheses import check_hypothesis
from search.analysis.summary import print_summary
from search.config import (
    EVALS_PER_RUN,
    REAL_RUNNER,
    SearchConfig,
    cpu_threads,
    default_study_name,
    parse_devices,
    parse_objectives,
)
from search.datafiles import absolute
from search.identity import CHANGES_ATTR, describe_changes, study_changes
from search.interrupts import Interrupts
from search.processes import WorkerPool
from search.progress import Progress, best_text
from search.pruning.stoppers import PRUNERS
from search.runner import choose_runner
from search.sampling import SAMPLERS
from search.space import load_space
from search.study import counts, create_or_load
from storage.retry import StorageUnavailable
from storage.urls import artifact_dir_for, default_storage_url, mask_url, open_storage


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.run",
        description="Search fine-tuning hyperparameters for relation extraction (KLUE-RE).",
    )
    p.add_argument("--trials", type=int, default=40, help="finished trials to add to the study")
    p.add_argument("--storage", help="sqlite:///FILE (default searches.db), postgresql://...")
    p.add_argument("--study", help="study name (default: from the model and the data)")
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
    p.add_argument("--no-relation", default=NO_RELATION, help="the label micro-F1 leaves out")
    p.add_argument("--space", type=Path, help="search space TOML (default: the shipped one)")
    p.add_argument("--workers", type=int, help="processes (default: one per GPU, or per core)")
    p.add_argument("--devices", help="GPU indices, one worker each, e.g. 0,1,2,3")
    p.add_argument("--sampler", default="tpe", help=f"one of {', '.join(SAMPLERS)}")
    p.add_argument("--pruner", default="moasha", help=f"one of {', '.join(PRUNERS)}")
    p.add_argument("--objectives", default="f1,auprc", help="f1, auprc or f1,auprc")
    p.add_argument(
        "--hypothesis",
        action="append",
        default=[],
        help="what this search is meant to find out, e.g. 'focal_gamma > 1 improves f1' "
        "(repeat the flag for several; the report gives each a verdict)",
    )
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument("--seed", type=int, help="sampler seed (workers offset it)")
    p.add_argument("--reduction-factor", type=int, default=3, help="MO-ASHA's eta")
    p.add_argument("--min-resource", type=int, default=1, help="evaluations before rung 0")
    p.add_argument("--precision", default="auto", help="auto (fp16 on CUDA), fp16, bf16, no")
    p.add_argument("--evals-per-epoch", type=int, help="evaluate so often an epoch instead")
    help_run = f"evaluations at equal fractions of each run (default {EVALS_PER_RUN})"
    p.add_argument("--evals-per-run", type=int, help=help_run)
    p.add_argument("--cache-dir", type=Path, help="tokenized data and the tiny model")
    p.add_argument("--artifacts", type=Path, help="trial predictions (default: by the storage)")
    p.add_argument(
        "--runner",
        default=REAL_RUNNER,
        help="what trains a trial: real (default), or MODULE:FUNCTION with "
        "objectives.training.loop.fine_tune's signature",
    )
    p.add_argument("--heartbeat", type=int, default=30, help="seconds between worker heartbeats")
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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def build_config(args, data_fingerprint: str, train: Path, dev: Path) -> SearchConfig:
    """Flags -> the one frozen config (data already read, for the study name's fingerprint)."""
    devices = parse_devices(args.devices)
    workers = args.workers if args.workers is not None else default_workers(devices)
    if devices and args.workers is not None and args.workers != len(devices):
        raise UserError(f"--workers {args.workers} and --devices {args.devices} disagree")
    storage = args.storage or default_storage_url()
    return SearchConfig(
        trials=args.trials,
        storage=storage,
        study=args.study or default_study_name(args.model, str(train), data_fingerprint),
        model=args.model,
        train=absolute(train),
        dev=absolute(dev),
        test=absolute(args.test),
        labels=absolute(args.labels),
        no_relation=args.no_relation,
        space=absolute(args.space),
        workers=workers,
        devices=devices,
        sampler=args.sampler,
        pruner=args.pruner,
        objectives=parse_objectives(args.objectives),
        hypotheses=tuple(dict.fromkeys(h.strip() for h in args.hypothesis)),
        timeout=args.timeout,
        seed=args.seed,
        reduction_factor=args.reduction_factor,
        min_resource=args.min_resource,
        precision=args.precision,
        evals_per_epoch=args.evals_per_epoch or 4,
        evals_per_run=_evals_per_run(args),
        cache_dir=str(args.cache_dir or cache_root()),
        artifacts=str(args.artifacts or artifact_dir_for(storage)),
        runner=args.runner,
        heartbeat_interval=args.heartbeat,
    )


def default_workers(devices: tuple[str, ...]) -> int:
    """One worker per listed device; without --devices, one per GPU, or on a CPU-only machine one
    per core (up to 4): single-threaded processes train a small model faster than one process
    using every core, which spends its time synchronizing threads on small matrices."""
    if devices:
        return len(devices)
    gpus = _gpu_count()
    if gpus:
        return gpus
    return max(1, min(os.cpu_count() or 1, 4))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.trials is not None and args.trials < 1:
        raise UserError(f"--trials: must be at least 1, got {args.trials}")
    tapt_base(args.model)  # a malformed NAME+tapt fails here, before any study exists
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial
    train, dev, _ = data_paths(args.train, args.dev, None)
    data = load_trial_data(train, dev, args.test, args.labels, args.no_relation)
    config = build_config(args, data.fingerprint, train, dev)
    print(describe_labels(data, args.labels), file=sys.stderr)
    space = load_space(config.space, config.model)
    for hypothesis in config.hypotheses:
        check_hypothesis(hypothesis, config.objectives)
    if config.runner != REAL_RUNNER:
        choose_runner(config.runner)  # a bad MODULE:FUNCTION fails before any study exists
    storage = open_storage(config.storage, heartbeat_interval=config.heartbeat_interval)
    before = len(study_changes(storage, config.study))
    study = create_or_load(storage, config, space, data, args.add_anyway)
    for line in describe_changes(study.user_attrs.get(CHANGES_ATTR, [])[before:]):
        print(line, file=sys.stderr)
    finished, _, _ = counts(study)
    if args.create_only:
        print(f"study {config.study} ready in {mask_url(config.storage)} ({finished} finished)")
        return 0
    config = dataclasses.replace(
        config,
        target_finished=finished + config.trials,
        # a worker beyond the trials asked for would only wait
        workers=min(config.workers, config.trials),
        devices=config.devices[: config.trials],
    )
    print(
        f"study {config.study} in {mask_url(config.storage)}: {finished} finished trials, "
        f"running {config.trials} more on {config.workers} worker(s)",
        file=sys.stderr,
    )
    started = time.monotonic()
    if config.workers == 1 and not config.devices:
        code = _run_here(config, study, finished, args.quiet)
    else:
        code = _run_processes(config, study, finished, args.quiet)
    print_summary(study, config, time.monotonic() - started)
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        name = signal.Signals(code - 128).name
        print(
            f"interrupted by {name}: running trials were marked failed; the same command "
            "continues the study",
            file=sys.stderr,
        )
    return code


def _gpu_count() -> int:
    """CUDA devices torch sees; without an NVIDIA driver on the machine, 0 without importing torch
    (seconds of the launcher's start-up on a CPU machine, before any worker starts)."""
    if not (shutil.which("nvidia-smi") or Path("/dev/nvidiactl").exists()):
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _run_here(config: SearchConfig, study: optuna.Study, finished: int, quiet: bool) -> int:
    import torch

    from search.worker import run_worker  # torch and transformers: only where trials run here

    if not torch.cuda.is_available():
        torch.set_num_threads(cpu_threads(1))
    progress = Progress(config.trials, quiet)

    def on_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        progress.show(min(config.trials, counts(study)[0] - finished), best_text(study))

    interrupts = Interrupts()
    interrupts.install()
    try:
        return run_worker(config, on_trial=on_trial, interrupts=interrupts)
    finally:
        progress.close()


def _run_processes(config: SearchConfig, study: optuna.Study, finished: int, quiet: bool) -> int:
    """One ``python -m search.worker`` per device (or per --workers on CPU), polled for progress.

    Exits 0 once the study has the trials asked for, even if a worker was killed on the way."""
    gpus = _gpu_count()
    slots = list(config.devices) or [str(i % gpus) if gpus else None for i in range(config.workers)]
    log_dir = Path(config.artifacts).parent / "logs" / safe_name(config.study)
    pool = WorkerPool(config, slots, log_dir)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: pool.stop(signum))
    progress = Progress(config.trials, quiet)
    done = 0
    try:
        while pool.alive():
            try:
                done = counts(study)[0] - finished
                progress.show(min(config.trials, done), best_text(study))
            except StorageUnavailable:
                progress.tick()  # the workers wait for the database and give up on their own
            pool.restart_killed(done >= config.trials)
            time.sleep(1.0)
        done = counts(study)[0] - finished
        progress.show(min(config.trials, done), best_text(study))
    finally:
        progress.close()
        pool.close()
    if pool.stopping is not None:
        return 128 + pool.stopping
    if done >= config.trials:
        return 0
    print(f"workers exited with {pool.codes()}; logs in {log_dir}", file=sys.stderr)
    return 1


def _evals_per_run(args) -> int | None:
    """The cadence: --evals-per-run, else per epoch when --evals-per-epoch is given, else the
    default chosen by replaying the learning-curve table (README, How efficient is the search)."""
    if args.evals_per_run is not None:
        return args.evals_per_run
    return None if args.evals_per_epoch is not None else EVALS_PER_RUN


if __name__ == "__main__":
    run_main(main)

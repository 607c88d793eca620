"""``python -m search.run``: a hyperparameter search for relation extraction, start to finish.

Reads and checks everything first (flags, data, search space, storage, an existing study's
objectives) so that bad input writes nothing, creates the study once, then runs one worker in
this process or one worker process per device, with a progress bar over the whole study, and
ends by saying where to look.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import optuna

from common.cli import (
    EXIT_USAGE,
    NOTICE,
    UserError,
    configure_logging,
    log_level,
    quiet_libraries,
    run_main,
)
from common.files import safe_name
from common.paths import cache_root
from objectives.data.inputs import data_paths, describe_labels, load_trial_data
from objectives.models.available import check_available
from objectives.models.names import tapt_base
from search.analysis.hypotheses import check_hypothesis
from search.analysis.summary import print_summary
from search.artifacts import location_for_search, record_location
from search.attrs import study_attrs
from search.config import (
    EVALS_PER_RUN,
    REAL_RUNNER,
    SearchConfig,
    check_trials,
    cpu_threads,
    default,
    default_study_name,
    parse_devices,
    parse_objectives,
)
from search.datafiles import absolute
from search.devices import default_workers, gpu_count
from search.flags import build_parser
from search.identity import CHANGES_ATTR, describe_changes, study_changes
from search.inputs import Inputs
from search.interrupts import Interrupts
from search.processes import WorkerPool, fail_for_workers
from search.progress import Progress, best_text
from search.runner import choose_runner
from search.space import load_space
from search.study import counts, create_or_load
from storage.artifacts import is_s3, open_artifact_store
from storage.opening import check_storage, open_storage
from storage.reserve import keep_reserve
from storage.retry import StorageFull, StorageUnavailable
from storage.urls import artifact_dir_for, default_storage_url, mask_url

log = logging.getLogger("search.run")  # its name also when run as __main__


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
        min_trials=args.min_trials,
        precision=args.precision,
        evals_per_epoch=args.evals_per_epoch or default("evals_per_epoch"),
        evals_per_run=_evals_per_run(args),
        cache_dir=str(args.cache_dir or cache_root()),
        artifacts=str(args.artifacts or artifact_dir_for(storage)),
        runner=args.runner,
        heartbeat_interval=args.heartbeat,
        live_every=args.live_every,
    )


def storage_url(args) -> str:
    """--storage, or the URL in the environment variable --storage-env names, or the default."""
    if args.storage_env is None:
        return args.storage or default_storage_url()
    if args.storage:
        raise UserError("--storage and --storage-env: give one of them")
    url = os.environ.get(args.storage_env, "").strip()
    if not url:
        raise UserError(f"--storage-env {args.storage_env}: the variable is not set or empty")
    return url


def open_search(args) -> tuple[SearchConfig, optuna.Study, Inputs]:
    """Check every input, then create or load the study: bad input writes nothing."""
    check_trials(args.trials)
    tapt_base(args.model)  # a malformed NAME+tapt fails here, before any study exists
    quiet_libraries()
    configure_logging(log_level(args))
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # ours is the line per trial (-v)
    # artifacts, dashboard plots and notes are experimental in Optuna and used as documented
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    args.storage = storage_url(args)
    check_storage(args.storage)  # seconds, not after the data is read
    train, dev, _ = data_paths(args.train, args.dev, None)
    data = load_trial_data(train, dev, args.test, args.labels, args.no_relation)
    config = build_config(args, data.fingerprint, train, dev)
    space = load_space(config.space, config.model)
    for hypothesis in config.hypotheses:
        check_hypothesis(hypothesis, config.objectives)
    if config.runner != REAL_RUNNER:
        choose_runner(config.runner)  # a bad MODULE:FUNCTION fails before any study exists
    else:
        for model in space.models() or [config.model]:
            check_available(model)
    storage = open_storage(config.storage, heartbeat_interval=config.heartbeat_interval)
    artifacts = location_for_search(args.artifacts, storage, config.study, config.storage)
    open_artifact_store(artifacts, create=True)  # a wrong location fails before the study
    config = dataclasses.replace(config, artifacts=artifacts, worker_logs=args.worker_logs)
    before = len(study_changes(storage, config.study))
    study = create_or_load(storage, config, space, data, args.add_anyway)
    for line in describe_changes(study_attrs(study).get(CHANGES_ATTR, [])[before:]):
        log.warning(line)
    record_location(study, artifacts)
    log.log(NOTICE, describe_labels(data, args.labels))  # every input checked by now
    return config, study, Inputs(storage, space, data)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config, study, inputs = open_search(args)
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
    log.log(
        NOTICE,
        "study %s in %s: %d finished trials, running %d more on %d worker(s)",
        *(config.study, mask_url(config.storage), finished, config.trials, config.workers),
    )
    started = time.monotonic()
    keep_reserve(config.storage)  # room to fail the trials a full disk stops
    try:
        if config.workers == 1 and not config.devices:
            code = _run_here(config, study, inputs, finished, args.quiet)
        else:
            code = _run_processes(config, study, finished, args.quiet)
    except StorageFull as exc:
        fail_for_workers(study, config.storage, exc.left_running)
        with contextlib.suppress(Exception):  # what the study has, then the one-line error
            print_summary(study, config, time.monotonic() - started)
        raise
    print_summary(study, config, time.monotonic() - started)
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        name = signal.Signals(code - 128).name
        again = "the same command continues the study"
        log.warning("interrupted by %s: running trials were marked failed; %s", name, again)
    return code


def _run_here(
    config: SearchConfig, study: optuna.Study, inputs: Inputs, finished: int, quiet: bool
) -> int:
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
        return run_worker(config, on_trial=on_trial, interrupts=interrupts, inputs=inputs)
    finally:
        progress.close()


def _run_processes(config: SearchConfig, study: optuna.Study, finished: int, quiet: bool) -> int:
    """One ``python -m search.worker`` per device (or per --workers on CPU), polled for progress.

    Exits 0 once the study has the trials asked for, even if a worker was killed on the way."""
    gpus = gpu_count()
    slots = list(config.devices) or [str(i % gpus) if gpus else None for i in range(config.workers)]
    log_dir = _log_dir(config)
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
        fail_for_workers(study, config.storage, pool.left_running())
    finally:
        progress.close()
        pool.close()
    if pool.stopping is not None:
        return 128 + pool.stopping
    if done >= config.trials:
        return 0
    errors = list(dict.fromkeys(pool.last_errors()))
    if errors and {code for code in pool.codes() if code} == {EXIT_USAGE}:
        for line in errors:  # each worker stopped on the same kind of user-facing error
            print(line, file=sys.stderr)
        return EXIT_USAGE
    where = f"; logs in {log_dir}" if log_dir is not None else ""
    log.error("workers exited with %s%s", pool.codes(), where)
    for line in errors:
        log.error(line)
    return 1


def _evals_per_run(args) -> int | None:
    """The cadence: --evals-per-run, else per epoch when --evals-per-epoch is given, else the
    default chosen by replaying the learning-curve table (README, How efficient is the search)."""
    if args.evals_per_run is not None:
        return args.evals_per_run
    return None if args.evals_per_epoch is not None else EVALS_PER_RUN


def _log_dir(config: SearchConfig) -> Path | None:
    """Where worker processes log: --worker-logs DIR, or logs/STUDY beside an artifact
    directory (in the working directory for S3 artifacts); None for the launcher's stderr."""
    if config.worker_logs == "-":
        return None
    if config.worker_logs:
        log_dir = Path(config.worker_logs)
    elif config.artifacts and not is_s3(config.artifacts):
        log_dir = Path(config.artifacts).parent / "logs" / safe_name(config.study)
    else:
        log_dir = Path("logs") / safe_name(config.study)
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


if __name__ == "__main__":
    run_main(main)

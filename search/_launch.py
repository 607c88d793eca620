"""What ``python -m search.run`` does once its flags are read: check every input and open the
study (bad input writes nothing), then run the trials in this process or in one worker process
per device, and sum up.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
import warnings
from pathlib import Path

import optuna

from common._cli import EXIT_USAGE, configure_logging, log_level, quiet_libraries
from objectives.data._inputs import data_paths, load_trial_data
from objectives.models._resolve import check_available, tapt_base
from search._attrs import study_attrs
from search._config import (
    REAL_RUNNER,
    DataFiles,
    SearchConfig,
    check_heartbeat,
    check_trials,
    cpu_threads,
    default_study_name,
)
from search._datafiles import absolute
from search._devices import gpu_count
from search._echo import LogEcho
from search._flags import build_deployment, build_plan, storage_url
from search._identity import CHANGES_ATTR, describe_changes, study_changes
from search._interrupts import Interrupts
from search._processes import WorkerPool, fail_for_workers, log_dir_for
from search._progress import Progress, best_text
from search._quota import Quota
from search._restarts import Restarts, SearchStopped
from search._runner import choose_runner
from search._space import load_space
from search._study import create_or_load
from search._study_artifacts import location_for_search, save_location
from search._target import check_total
from search._worker_inputs import Inputs
from search.analysis._hypotheses import check_hypothesis
from search.analysis._summary import print_summary
from storage._artifacts import open_artifact_store
from storage._opening import check_storage, open_storage
from storage._retry import DISK_FULL, StorageFull, StorageUnavailable
from storage._urls import mask_url

log = logging.getLogger("search.run")  # the command's lines


def open_search(args) -> tuple[SearchConfig, optuna.Study, Inputs]:
    """Check every input, then create or load the study: bad input writes nothing."""
    check_trials(args.trials)
    check_total(args.total)
    tapt_base(args.model)  # a malformed NAME+tapt fails here, before any study exists
    quiet_libraries()
    configure_logging(log_level(args))
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # ours is the line per trial (-v)
    # artifacts, dashboard plots and notes are experimental in Optuna and used as documented
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    url = storage_url(args)
    check_storage(url)  # seconds, not after the data is read
    check_heartbeat(args.heartbeat)
    plan = build_plan(args)
    train, dev, _ = data_paths(args.train, args.dev, None)
    data = load_trial_data(train, dev, args.test, args.labels, args.no_relation)
    files = DataFiles(
        absolute(train), absolute(dev), absolute(args.test), absolute(args.labels), args.no_relation
    )
    space = load_space(plan.space, plan.model)
    for hypothesis in plan.hypotheses:
        check_hypothesis(hypothesis, plan.objectives)
    if plan.runner != REAL_RUNNER:
        choose_runner(plan.runner)  # a bad MODULE:FUNCTION fails before any study exists
    else:
        for model in space.models() or [plan.model]:
            check_available(model)
    name = args.study or default_study_name(plan.model, str(train), data.fingerprint)
    storage = open_storage(url, heartbeat_interval=args.heartbeat)
    artifacts = location_for_search(args.artifacts, storage, name, url)
    config = SearchConfig(plan, files, build_deployment(args, url, name, artifacts))
    open_artifact_store(artifacts, create=True)  # a wrong location fails before the study
    before = len(study_changes(storage, name))
    study = create_or_load(storage, config, space, data, args.add_anyway)
    for line in describe_changes(study_attrs(study).get(CHANGES_ATTR, [])[before:]):
        log.warning(line)
    save_location(study, artifacts)
    return config, study, Inputs(storage, space, data)


def run_and_sum_up(
    config: SearchConfig,
    study: optuna.Study,
    inputs: Inputs,
    quota: Quota,
    workers: int,
    quiet: bool,
) -> int:
    """Run the launch's trials (here, or in ``workers`` worker processes), print the summary,
    and return the exit code; a full disk fails the trials it stopped, then raises."""
    where, started = config.deployment, time.monotonic()
    try:
        if workers == 1 and not where.devices:
            code = _run_here(config, study, inputs, quota, quiet)
        else:
            code = _run_processes(config, study, quota, workers, quiet)
    except StorageFull as exc:
        fail_for_workers(study, where.storage, exc.left_running)
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
    config: SearchConfig, study: optuna.Study, inputs: Inputs, quota: Quota, quiet: bool
) -> int:
    import torch

    from search._work import run_worker  # torch and transformers: only where trials run here

    if not torch.cuda.is_available():
        torch.set_num_threads(cpu_threads(1))
    trials = quota.to_run
    progress = Progress(trials, quiet)

    def on_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        progress.show(min(trials, quota.done(study)), best_text(study))

    interrupts = Interrupts()
    interrupts.install()
    try:
        return run_worker(config, quota, on_trial=on_trial, interrupts=interrupts, inputs=inputs)
    finally:
        progress.close()


def _run_processes(
    config: SearchConfig, study: optuna.Study, quota: Quota, workers: int, quiet: bool
) -> int:
    """``workers`` ``python -m search.worker`` processes (one per device, or per --workers on
    CPU), polled for progress until the quota is met.

    Exits 0 once this launch has the trials asked for, even if a worker was killed on the way."""
    where, trials = config.deployment, quota.to_run
    gpus = gpu_count()
    devices = where.devices[:workers]
    slots = list(devices) or [str(i % gpus) if gpus else None for i in range(workers)]
    log_dir = log_dir_for(where)
    progress = Progress(trials, quiet)
    echo = LogEcho(log_dir, len(slots), progress.write)  # -v: the workers' lines here too
    pool = WorkerPool(config, quota, slots, log_dir)
    restarts = Restarts(pool, study, config.plan.timeout, mask_url(where.storage))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: pool.stop(signum))
    done = 0
    try:
        while True:
            echo.poll()
            try:
                done = quota.done(study)
                progress.show(min(trials, done), best_text(study))
                answered = True
            except StorageUnavailable:
                progress.tick()  # the workers wait for the database and give up on their own
                answered = False
            _poll_restarts(restarts, done >= trials, answered)
            if not (pool.alive() or restarts.pending()):
                break
            time.sleep(1.0)
        echo.poll()
        done = quota.done(study)
        progress.show(min(trials, done), best_text(study))
        fail_for_workers(study, where.storage, pool.left_running())
    finally:
        progress.close()
        pool.close()
    return _pool_exit_code(pool, done >= trials, log_dir)


def _poll_restarts(restarts: Restarts, done: bool, answered: bool) -> None:
    """Start again the workers that exited (:mod:`search._restarts`); when it stops the search,
    let the workers it stopped fail their trials before the one line."""
    try:
        restarts.poll(done, answered)
    except SearchStopped:
        while restarts.pool.alive():
            time.sleep(0.2)
        raise


def _pool_exit_code(pool: WorkerPool, done: bool, log_dir: Path | None) -> int:
    """What the launcher exits with once its workers are gone: the signal that stopped it, 0 when
    the trials are done, else the workers' own error lines (a usage error once, as its code)."""
    if pool.stopping is not None:
        return 128 + pool.stopping
    if done:
        return 0
    errors = list(dict.fromkeys(pool.last_errors()))
    full = [line for line in errors if DISK_FULL in line]  # whatever the other workers met
    if full or (errors and {code for code in pool.codes() if code} == {EXIT_USAGE}):
        for line in full or errors:  # each worker stopped on the same kind of user-facing error
            print(line, file=sys.stderr)
        return EXIT_USAGE
    where_logs = f"; logs in {log_dir}" if log_dir is not None else ""
    log.error("workers exited with %s%s", pool.codes(), where_logs)
    for line in errors:
        log.error(line)
    return 1

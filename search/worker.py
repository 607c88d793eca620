"""One worker: pulls trials from the shared study until it has enough finished trials.

Started by ``search.run`` (in-process for one worker, as ``python -m search.worker`` processes
for several), or by hand on another machine through ``search.run`` with the same storage URL and
study. Workers share nothing but the storage URL.
"""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import optuna

from common.cli import ArgumentParser, configure_logging, quiet_libraries, run_main
from objectives.hparams import HParams
from objectives.training.loop import Workspace
from search.attrs import REASON_CHARS, STORAGE_FAILED
from search.config import REAL_RUNNER, SearchConfig, cpu_threads
from search.inputs import Inputs
from search.interrupts import Interrupts, WorkerInterrupted
from search.live import LiveStopper, LiveView
from search.processes import report_stop, watch_launcher, worker_config
from search.pruning.stoppers import make_stopper
from search.runner import choose_runner
from search.space import Choice, Fixed, Space
from search.study import NoFreeSlot, SlotStudy, counts, load_for_worker
from search.trial import Objective, ReasonNotStored, Runner
from search.trial_log import TrialLog
from storage.artifacts import (
    STORE_WAIT_S,
    open_artifact_store,
    wait_until_reachable,
)
from storage.liveness import Reaper, reap_stale
from storage.reserve import fail_left_running
from storage.retry import StorageFull, StorageUnavailable

MAX_FAILURES_IN_A_ROW = 3
E = TypeVar("E", bound=BaseException)
POLL_SECONDS = 1.0
log = logging.getLogger("search.worker")  # not __main__ under python -m


def run_worker(
    config: SearchConfig,
    runner: Runner | None = None,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
    interrupts: Interrupts | None = None,
    inputs: Inputs | None = None,
) -> int:
    """Run trials until the study has ``config.target_finished`` finished trials, the timeout
    passes, or a signal asks to stop. Returns the process exit code."""
    interrupts = interrupts or Interrupts()
    inputs = inputs or Inputs.load(config)
    study = load_for_worker(inputs.storage, config)
    view = LiveView(config)
    runner = runner or choose_runner(config.runner)
    objective = _objective(config, inputs, runner, interrupts, view)
    callbacks = [TrialLog(), view, *([on_trial] if on_trial else [])]
    # a dead worker's trial is retried within 1.5 grace periods (stale after one, found within
    # half of one more), even while this worker trains
    with Reaper(study, every=config.heartbeat_interval):
        code = _pull_trials(study, objective, config, interrupts, callbacks)
    view.refresh(study, force=True)
    return code


def _pull_trials(
    study: SlotStudy,
    objective: Objective,
    config: SearchConfig,
    interrupts: Interrupts,
    callbacks: list,
) -> int:
    deadline = time.monotonic() + config.timeout if config.timeout else None
    failures = 0
    _settle()
    while interrupts.signum is None:
        finished, running, _ = counts(study)
        if finished >= config.target_finished:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        if finished + running >= config.target_finished:
            # the last trials are running elsewhere; wait in case one fails and must be redone
            reap_stale(study)
            time.sleep(POLL_SECONDS)
            continue
        try:
            study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=callbacks)
        except NoFreeSlot:
            continue  # another worker took the last trial between the count and the claim
        except WorkerInterrupted:
            break
        except ReasonNotStored:
            _stop_for_no_space(study, objective, None)
        except Exception as exc:
            if objective.no_space or _cause(exc, StorageFull):
                _stop_for_no_space(study, objective, exc)
            # the database stayed away past the retry window (storage.retry); Optuna may have
            # raised something else while failing the trial on the same dead connection
            unavailable = _cause(exc, StorageUnavailable)
            if unavailable is None:
                raise
            raise unavailable from None
        if objective.no_space:
            _stop_for_no_space(study, objective, None)
        _settle()
        if _waited_for_store(objective, interrupts):
            continue
        failures = failures + 1 if objective.last_crash else 0
        if failures >= MAX_FAILURES_IN_A_ROW:
            # the same crash every time is a bug or a broken setup, not a bad configuration
            log.error("%d trials in a row crashed; last: %s", failures, objective.last_crash)
            return 1
    return interrupts.exit_code


def _settle() -> None:
    """Move what outlives a trial (imports, data, caches, the study's trials) out of the garbage
    collector's reach. accelerate's ``free_memory`` runs a full collection at the end of every
    trial to release the model; over the half a million objects a worker holds that costs tenths
    of a second per trial, and with them frozen it scans only what the trial made."""
    gc.collect()
    gc.freeze()


def _objective(
    config: SearchConfig, inputs: Inputs, runner: Runner, interrupts: Interrupts, view: LiveView
) -> Objective:
    space, data = inputs.space, inputs.data
    workspace = Workspace(Path(config.cache_dir) if config.cache_dir else None)
    if config.runner == REAL_RUNNER:
        # before the first trial: building the tiny model or a +tapt model, or checking a hub id,
        # importing its modeling code and loading its tokenizers are the worker's set-up, once,
        # not part of whichever trial happens to come first
        for model in space.models() or [config.model]:
            workspace.prepare(model, data, _values(space, "markers", model))
    artifacts = open_artifact_store(config.artifacts, create=True) if config.artifacts else None

    def guarded(*args):
        interrupts.arm()
        try:
            return runner(*args)
        finally:
            interrupts.armed = False

    stopper = make_stopper(
        config.pruner, config.reduction_factor, config.min_resource, config.min_trials
    )
    stopper = LiveStopper(stopper, view)
    return Objective(config, space, data, guarded, stopper, workspace, artifacts)


def _values(space: Space, name: str, model: str) -> list:
    """The values parameter ``name`` can take in trials of ``model``: its choices, its fixed
    value, HParams' default where the space leaves it out, none for a range."""
    if name not in space.params:
        return [getattr(HParams(), name)]
    param = space.param_for(name, model)
    if isinstance(param, Choice):
        return list(param.choices)
    if isinstance(param, Fixed):
        return [param.value]
    return []


def _waited_for_store(objective: Objective, interrupts: Interrupts) -> bool:
    """After a trial whose upload failed, take no trial while the artifact store is away; give up
    after STORE_WAIT_S. False when the last trial's upload did not fail."""
    down = objective.store_down
    if down is None:
        return False
    log.warning("worker: %s; waiting for it (trial enqueued again)", down)

    def stop() -> bool:
        return interrupts.signum is not None

    if not wait_until_reachable(objective.artifacts, STORE_WAIT_S, stop) and not stop():
        raise type(down)(f"{down} for {STORE_WAIT_S:.0f} s; the worker stops") from None
    return True


def _cause(exc: BaseException, kind: type[E]) -> E | None:
    """``exc`` or the first exception of type ``kind`` in its cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _stop_for_no_space(study: SlotStudy, objective: Objective, exc: Exception | None) -> None:
    """A full (or read-only) disk: fail the trial with that reason where the storage still takes
    the write (its partial artifacts are gone, which may have freed the space), then stop with
    one line. Retrying would only fill the disk again. A trial the storage would not let us fail
    travels with the error, for the launcher to fail (:mod:`storage.reserve`). The trial is the
    one the objective runs, or the one ``ask`` created before a write of its set-up failed."""
    reason = objective.no_space or f"{STORAGE_FAILED}the disk is full or read-only: {exc}"
    full = _cause(exc, StorageFull) if exc is not None else None
    full = full if full is not None else StorageFull(reason.removeprefix(STORAGE_FAILED))
    mine = {objective.trial_id, study.asked} - {None}
    if mine:
        stored = {trial_id: reason[:REASON_CHARS] for trial_id in mine}
        _, left = fail_left_running(study._storage, study.study_name, stored)
        full.left_running.update({trial_id: stored[trial_id] for trial_id in left})
    raise full


def main(argv: list[str] | None = None) -> int:
    """``python -m search.worker CONFIG_JSON``: one worker process, started by search.run."""
    parser = ArgumentParser(
        prog="python -m search.worker",
        description="One search worker. search.run starts these (one per device) with a config "
        "file and the storage URL in the environment; run search.run, not this, by hand.",
    )
    parser.add_argument("config", type=Path, help="the config JSON that search.run wrote")
    args = parser.parse_args(argv)
    config = worker_config(args.config)
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # ours is the line per trial
    configure_logging("INFO")  # the worker's log file: a line per trial
    # artifacts, dashboard plots and notes are experimental in Optuna and used as documented
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    import torch

    if not torch.cuda.is_available():
        torch.set_num_threads(cpu_threads(config.workers))
    interrupts = Interrupts()
    interrupts.install()
    watch_launcher()
    try:
        return run_worker(config, interrupts=interrupts)
    except StorageFull as exc:
        report_stop(f"error: {exc.lines()[0]}", exc.left_running)
        raise


if __name__ == "__main__":
    run_main(main)

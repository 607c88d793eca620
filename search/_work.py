"""One worker's loop: pulls trials from the shared study until it has enough finished trials,
and turns each trial's outcome into its state in the study and the worker's next step.

Run by ``search.run`` (in-process for one worker) or by ``python -m search.worker`` processes
(for several, or by hand on another machine). Workers share nothing but the storage URL.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
import warnings
from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from search._attrs import FAIL_REASON, PRUNED_REASON, REASON_CHARS, STORAGE_FAILED
from search._config import SearchConfig
from search._interrupts import Interrupts
from search._live import LiveView
from search._outcome import MAX_CRASHES, Cause, Complete, Failed, Outcome, Pruned, Step, failure
from search._processes import report_stop
from search._quota import NoFreeSlot, Quota, SetUpFailed, ask_in_slot
from search._runner import choose_runner
from search._study import load_for_worker
from search._trial import Objective, Runner, build_objective
from search._trial_log import TrialLog
from search._worker_inputs import Inputs
from storage._artifacts import STORE_WAIT_S, ArtifactStore, wait_until_reachable
from storage._liveness import Reaper, beats, enqueue_retry, reap_stale
from storage._optuna import storage_of, trial_id
from storage._reserve import fail_left_running
from storage._retry import StorageFull

POLL_SECONDS = 1.0
log = logging.getLogger("search.worker")  # the worker's lines, however it was started


def run_worker(
    config: SearchConfig,
    target: Quota,
    runner: Runner | None = None,
    on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
    interrupts: Interrupts | None = None,
    inputs: Inputs | None = None,
) -> int:
    """Run trials until ``target``'s launch has its finished trials, the timeout
    passes, or a signal asks to stop. Returns the process exit code."""
    interrupts = interrupts or Interrupts()
    inputs = inputs or Inputs.load(config)
    study = load_for_worker(inputs.storage, config)
    view = LiveView(config)
    runner = runner or choose_runner(config.plan.runner)
    objective = build_objective(config, inputs, runner, interrupts, view)
    callbacks = [TrialLog(), view, *([on_trial] if on_trial else [])]
    # a dead worker's trial is retried within 1.5 grace periods (stale after one, found within
    # half of one more), even while this worker trains
    with Reaper(study, every=config.deployment.heartbeat_interval):
        code = _pull_trials(study, objective, target, config.plan.timeout, interrupts, callbacks)
    view.refresh(study, force=True)
    return code


def _pull_trials(
    study: optuna.Study,
    objective: Objective,
    target: Quota,
    timeout: float | None,
    interrupts: Interrupts,
    callbacks: list,
) -> int:
    deadline = time.monotonic() + timeout if timeout else None
    crashes = 0
    _settle()
    while interrupts.signum is None:
        finished, running = target.counts(study)
        if finished >= target.trials:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        if finished + running >= target.trials:
            # the last trials are running elsewhere; wait in case one fails and must be redone
            reap_stale(study, lease_grace=2 * objective.config.deployment.heartbeat_interval)
            time.sleep(POLL_SECONDS)
            continue
        ran = _run_one(study, objective, target)
        if ran is None:
            continue  # another worker took the last trial between the count and the claim
        trial, outcome = ran
        step = finish(study, trial, outcome, callbacks)
        _settle()
        if step is Step.STOP:
            break
        if step is Step.RETRY:
            _wait_for_store(objective.artifacts, outcome.error, interrupts)
            continue
        if isinstance(outcome, Failed) and outcome.cause is Cause.CRASHED:
            crashes += 1
        else:
            crashes = 0
        if crashes >= MAX_CRASHES:
            log.error("%d trials in a row crashed; last: %s", crashes, outcome.reason)
            report_stop(f"error: {crashes} trials in a row crashed; last: {outcome.reason}", {})
            return 1
    return interrupts.exit_code


def _run_one(
    study: optuna.Study, objective: Objective, target: Quota
) -> tuple[optuna.Trial | int, Outcome] | None:
    """Start a trial and run it: the trial and its outcome (the trial's id where its set-up
    failed after its creation); None when no slot was free."""
    if beats(storage_of(study)):  # as Study.optimize does before each trial
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    try:
        trial = ask_in_slot(study, target)
    except NoFreeSlot:
        return None
    except SetUpFailed as exc:
        return exc.trial_id, failure(exc.error)
    try:
        return trial, objective(trial)
    except BaseException as exc:  # a bug, or an interrupt outside a run: the trial still ends
        with contextlib.suppress(Exception):
            trial.set_user_attr(FAIL_REASON, f"{type(exc).__name__}: {exc}"[:REASON_CHARS])
            study.tell(trial, state=TrialState.FAIL)
        raise


def finish(
    study: optuna.Study, trial: optuna.Trial | int, outcome: Outcome, callbacks: list
) -> Step:
    """The one place a trial's outcome becomes its state in the study and this worker's next
    step (:mod:`search._outcome`). Raises the error of a failure that stops the worker."""
    if isinstance(outcome, Failed) and outcome.cause is Cause.DISK_FULL:
        _stop_for_no_space(study, trial, outcome)
    if isinstance(trial, int):  # its set-up failed for another reason than a full disk
        raise outcome.error
    try:
        frozen = _tell(study, trial, outcome)
    except Exception as exc:
        failed = failure(exc)
        if failed.cause is not Cause.DISK_FULL:
            raise
        _stop_for_no_space(study, trial, failed)
    for callback in callbacks:
        callback(study, frozen)
    if not isinstance(outcome, Failed):
        return Step.NEXT
    if outcome.step is Step.RAISE:
        raise outcome.error
    if outcome.cause is Cause.CRASHED:
        log.warning("trial %d crashed", trial.number, exc_info=outcome.error)
    return outcome.step


def _tell(study: optuna.Study, trial: optuna.Trial, outcome: Outcome) -> FrozenTrial:
    if isinstance(outcome, Complete):
        return study.tell(trial, list(outcome.values))
    if isinstance(outcome, Pruned):
        trial.set_user_attr(PRUNED_REASON, outcome.standing)
        return study.tell(trial, state=TrialState.PRUNED)
    trial.set_user_attr(FAIL_REASON, outcome.reason[:REASON_CHARS])
    frozen = study.tell(trial, state=TrialState.FAIL)
    if outcome.cause.runs_again:
        enqueue_retry(study, frozen, max_retry=2)
    return frozen


def _settle() -> None:
    """Move what outlives a trial (imports, data, caches, the study's trials) out of the garbage
    collector's reach. accelerate's ``free_memory`` runs a full collection at the end of every
    trial to release the model; over the half a million objects a worker holds that costs tenths
    of a second per trial, and with them frozen it scans only what the trial made."""
    gc.collect()
    gc.freeze()


def _wait_for_store(
    artifacts: ArtifactStore, down: BaseException | None, interrupts: Interrupts
) -> None:
    """After a trial whose upload failed, take no trial while the artifact store is away; give up
    after STORE_WAIT_S."""
    log.warning("worker: %s; waiting for it (trial enqueued again)", down)

    def stop() -> bool:
        return interrupts.signum is not None

    if not wait_until_reachable(artifacts, STORE_WAIT_S, stop) and not stop():
        raise type(down)(f"{down} for {STORE_WAIT_S:.0f} s; the worker stops") from None


def _stop_for_no_space(study: optuna.Study, trial: optuna.Trial | int, outcome: Failed) -> None:
    """A full (or read-only) disk: fail the trial with that reason where the storage still takes
    the write (its partial artifacts are gone, which may have freed the space), then stop with
    one line. A trial the storage would not let us fail travels with the error, for the launcher
    to fail (:mod:`storage._reserve`)."""
    full = outcome.error
    if not isinstance(full, StorageFull):
        full = StorageFull(outcome.reason.removeprefix(STORAGE_FAILED))
    mine = trial if isinstance(trial, int) else trial_id(trial)
    stored = {mine: outcome.reason[:REASON_CHARS]}
    _, left = fail_left_running(storage_of(study), study.study_name, stored)
    full.left_running.update({t: stored[t] for t in left})
    raise full from None

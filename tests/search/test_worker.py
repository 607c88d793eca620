"""The worker in process: each way a trial can end, as the objective returns it, becomes the
trial's state and the worker's next step (next trial, retry, stop)."""

import signal

import optuna
import pytest
from optuna.trial import TrialState

from objectives.training._result import RunResult
from search import run_worker
from search._attrs import FAIL_REASON, PRUNED_REASON
from search._config import DataFiles, Deployment, SearchConfig, SearchPlan
from search._interrupts import Interrupts, WorkerInterrupted
from search._outcome import MAX_CRASHES
from search._quota import Quota
from search._space import load_space
from search._worker_inputs import Inputs
from storage._artifacts import ArtifactStoreUnavailable
from storage._opening import open_storage
from storage._retry import StorageFull, StorageUnavailable
from tests.toy import toy_data

METRICS = {"micro_f1": 61.23456, "auprc": 52.5}


def result(status: str = "complete", reason: str | None = None) -> RunResult:
    return RunResult(
        status=status,
        reason=reason,
        metrics=dict(METRICS),
        best_step=4,
        steps=4,
        total_steps=8,
        evaluations=[],
        timings={},
        memory={},
        micro_batch_size=8,
    )


def runner_of(*ends):
    """A runner that ends its k-th trial with ``ends[k]`` (the last one from then on): a status
    string for a RunResult, or an exception to raise."""
    calls = []

    def run(hp, settings, data, report, workspace):
        end = ends[min(len(calls), len(ends) - 1)]
        calls.append(hp)
        if isinstance(end, BaseException):
            raise end
        return result(end, None if end == "complete" else f"{end} by the test")

    run.calls = calls
    return run


@pytest.fixture
def search(tmp_path):
    """A worker's config and inputs over a fresh SQLite study of two objectives."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = open_storage(url)
    optuna.create_study(storage=storage, study_name="s", directions=["maximize", "maximize"])
    config = SearchConfig(
        # not the "real" runner: no model is prepared
        SearchPlan(trials=2, model="tiny", runner="tests.search.test_worker:unused"),
        DataFiles(train="train.csv", dev="dev.csv"),
        Deployment(storage=url, study="s", live_every=3600.0),
    )
    return config, Inputs(storage, load_space(None, "tiny"), toy_data(train=8, dev=4))


def trials(config):
    return optuna.load_study(
        study_name=config.deployment.study, storage=config.deployment.storage
    ).trials


def test_complete_trials_keep_their_values_at_the_stored_precision(search):
    config, inputs = search
    assert run_worker(config, Quota(2), runner=runner_of("complete"), inputs=inputs) == 0
    done = trials(config)
    assert [t.state for t in done] == [TrialState.COMPLETE] * 2
    assert done[0].values == [61.2346, 52.5]


def test_a_stopped_run_is_pruned_with_its_reason(search):
    config, inputs = search
    assert run_worker(config, Quota(2), runner=runner_of("stopped"), inputs=inputs) == 0
    pruned = trials(config)
    assert [t.state for t in pruned] == [TrialState.PRUNED] * 2
    assert pruned[0].user_attrs[PRUNED_REASON] == "stopped by the test"


def test_a_diverged_trial_fails_and_the_worker_goes_on(search):
    config, inputs = search
    assert (
        run_worker(config, Quota(2), runner=runner_of("diverged", "complete"), inputs=inputs) == 0
    )
    states = [t.state for t in trials(config)]
    assert states == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials(config)[0].user_attrs[FAIL_REASON] == "diverged by the test"


def test_crashes_in_a_row_stop_the_worker_with_an_error_code(search):
    config, inputs = search
    code = run_worker(config, Quota(2), runner=runner_of(RuntimeError("boom")), inputs=inputs)
    assert code == 1
    crashed = trials(config)
    assert [t.state for t in crashed] == [TrialState.FAIL] * MAX_CRASHES
    assert crashed[0].user_attrs[FAIL_REASON] == "RuntimeError: boom"


def test_crashes_apart_from_each_other_do_not_stop_the_worker(search):
    config, inputs = search
    crash = RuntimeError("sometimes")
    runner = runner_of(crash, crash, "complete", crash, crash, "complete")
    assert run_worker(config, Quota(2), runner=runner, inputs=inputs) == 0
    states = [t.state for t in trials(config)]
    assert states.count(TrialState.FAIL) == 4 and states.count(TrialState.COMPLETE) == 2


def test_an_interrupted_trial_fails_with_the_signal_and_the_worker_stops(search):
    config, inputs = search
    interrupts = Interrupts()

    def interrupted(*args):
        interrupts.signum = signal.SIGINT  # as the handler does, before it raises
        raise WorkerInterrupted(signal.SIGINT)

    code = run_worker(config, Quota(2), runner=interrupted, inputs=inputs, interrupts=interrupts)
    assert code == 128 + signal.SIGINT
    (trial,) = trials(config)
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[FAIL_REASON] == "interrupted by SIGINT"


def test_a_full_disk_fails_the_trial_with_its_reason_and_stops_the_worker(search):
    config, inputs = search
    full = StorageFull("--storage x: the disk is full or read-only: database or disk is full")
    with pytest.raises(StorageFull) as raised:
        run_worker(config, Quota(2), runner=runner_of(full), inputs=inputs)
    assert raised.value.left_running == {}  # the storage took the failure
    (trial,) = trials(config)
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[FAIL_REASON].startswith("storage: --storage x: the disk is full")


def test_an_artifact_store_that_went_away_runs_the_trial_again(search):
    config, inputs = search
    down = ArtifactStoreUnavailable("--artifacts s3://b/p: no answer")
    runner = runner_of(down, "complete")
    assert run_worker(config, Quota(2), runner=runner, inputs=inputs) == 0
    first, *rest = trials(config)
    assert first.state == TrialState.FAIL
    assert first.user_attrs[FAIL_REASON] == "--artifacts s3://b/p: no answer"
    assert [t.state for t in rest] == [TrialState.COMPLETE] * 2
    assert rest[0].params == first.params  # the retry, with the same parameters
    assert rest[0].system_attrs["failed_trial"] == first.number


def test_a_storage_that_stayed_away_stops_the_worker_with_its_line(search):
    config, inputs = search
    gone = StorageUnavailable("--storage x: the database did not answer for 60 s")
    with pytest.raises(StorageUnavailable, match="did not answer"):
        run_worker(config, Quota(2), runner=runner_of(gone), inputs=inputs)
    trial, retry = trials(config)
    assert trial.state == TrialState.FAIL  # here the database answers again for the failure
    assert trial.user_attrs[FAIL_REASON].startswith("storage: --storage x")
    # not the configuration's fault: the worker its launcher starts again runs it again
    assert retry.state == TrialState.WAITING and retry.params == trial.params

"""Workers claiming trials together: the enqueued trial runs once, and the study finishes exactly
the trials asked for, over many fresh studies (each worker with a storage of its own)."""

import threading

import optuna
import pytest
from optuna.trial import TrialState

from search._quota import NoFreeSlot, Quota, ask_in_slot
from storage._opening import open_storage

pytestmark = pytest.mark.integration

ROUNDS = 15
WORKERS = 4
TARGET = 5


def _worker(url: str, name: str, start: threading.Barrier, errors: list, quota: Quota) -> None:
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(url))
        start.wait()
        while True:
            finished = len(study.get_trials(states=(TrialState.COMPLETE,)))
            if finished >= TARGET:
                return
            try:
                trial = ask_in_slot(study, quota)
            except NoFreeSlot:
                continue
            study.tell(trial, trial.suggest_float("x", 0, 1))
    except Exception as exc:  # reported by the test
        errors.append(repr(exc))


def _one_round(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.create_study(study_name=name, storage=open_storage(url))
    study.enqueue_trial({"x": 0.5}, user_attrs={"origin": "enqueued"})
    start = threading.Barrier(WORKERS)
    errors: list[str] = []
    quota = Quota(TARGET)  # the workers of one launch
    threads = [
        threading.Thread(target=_worker, args=(url, name, start, errors, quota))
        for _ in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return study.get_trials()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_enqueued_trial_runs_once_and_exactly_n_finish(kind, tmp_path, request):
    for i in range(ROUNDS):
        if kind == "sqlite":
            url, name = f"sqlite:///{tmp_path / f'round{i}.db'}", "claims"
        else:
            url, name = request.getfixturevalue("postgres_url"), f"claims-{i}"
        trials = _one_round(url, name)
        enqueued = [t for t in trials if t.user_attrs.get("origin") == "enqueued"]
        assert len(enqueued) == 1, f"round {i}: the enqueued trial ran {len(enqueued)} times"
        assert len(trials) == TARGET, f"round {i}: {len(trials)} trials for {TARGET}"
        assert all(t.state == TrialState.COMPLETE for t in trials)

"""--total: the count a study reaches however often its launchers start (search._target)."""

import optuna
import pytest
from optuna.trial import TrialState

from common._cli import UserError
from search._target import check_total, quota_for
from search.run import main
from search.testing import RUNNER


def test_trials_add_to_what_the_study_has_and_total_is_the_count_it_reaches():
    own = quota_for(finished=3, trials=4, total=None)
    assert (own.trials, own.to_run) == (4, 4) and own.launch is not None
    total = quota_for(finished=3, trials=4, total=10)
    assert (total.trials, total.to_run, total.launch) == (10, 7, None)
    assert quota_for(finished=12, trials=4, total=10).to_run == 0
    with pytest.raises(UserError, match="--total"):
        check_total(0)


def finished(storage: str) -> int:
    study = optuna.load_study(study_name="t", storage=storage)
    return sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)


def test_a_launcher_started_again_with_total_runs_only_what_is_missing(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "t", "--quiet", "--workers", "1"]
    assert main([*argv, "--total", "4"]) == 0
    assert finished(storage) == 4
    assert main([*argv, "--total", "4"]) == 0  # a replaced pod: nothing left to run
    assert finished(storage) == 4
    assert "already has 4 finished trials (--total 4)" in capsys.readouterr().out
    assert main([*argv, "--total", "6", "--trials", "100"]) == 0  # the total wins
    assert finished(storage) == 6

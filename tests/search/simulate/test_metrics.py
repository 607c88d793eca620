"""The replay figures on hand-made replays whose answers are known."""

import numpy as np
import pytest

from search.simulate._metrics import AXES, pruning_regret, ratio, summarize
from search.simulate._replay import Replay
from search.simulate._targets import best_known, targets, withhold
from tests.search.simulate.synthetic import agreeing, table


def trial(full_f1, full_auprc, state="complete", f1=None):
    """A finished trial; a completed run found its full run, a stopped one ``f1`` (lower)."""
    found = full_f1 if f1 is None else f1
    return {
        "state": state,
        "f1": found,
        "auprc": full_auprc,
        "full_f1": full_f1,
        "full_auprc": full_auprc,
        "at_seconds": 0.0,
        "at_examples": 0.0,
    }


def test_regret_is_the_share_of_the_final_front_that_was_stopped():
    # front of the full runs: (70, 50), (60, 60), (55, 65); (50, 40) and (40, 45) are dominated
    r = Replay(
        "x",
        0,
        [
            trial(70, 50),
            trial(60, 60, "pruned", f1=30),
            trial(55, 65),
            trial(50, 40, "pruned", f1=20),
            trial(40, 45, "pruned", f1=20),
        ],
    )
    got = pruning_regret(r)
    assert got["front"] == 3
    assert got["share"] == pytest.approx(1 / 3)  # one front member stopped, of three
    assert got["point_share"] == pytest.approx(1 / 3)
    assert got["top_share"] == pytest.approx(3 / 5)  # every trial is in the top 5 by F1
    assert got["f1_lost"] == 0.0  # the best full run completed


def test_regret_counts_a_stopped_best_run_and_the_f1_it_cost():
    r = Replay(
        "x",
        0,
        [trial(70, 50, "pruned", f1=35), trial(60, 40)] + [trial(10 + i, 5) for i in range(6)],
    )
    got = pruning_regret(r)
    assert (got["front"], got["share"], got["point_share"]) == (1, 1.0, 1.0)
    assert got["top_share"] == pytest.approx(1 / 5)  # top 5 by full F1: 70, 60, 15, 14, 13
    assert got["f1_lost"] == pytest.approx(10.0)  # best full run 70, best completed 60


def test_pruning_nothing_is_no_regret():
    r = Replay("x", 0, [trial(70, 50), trial(60, 60), trial(10, 5)])
    assert pruning_regret(r) == {
        "share": 0.0,
        "point_share": 0.0,
        "top_share": 0.0,
        "f1_lost": 0.0,
        "front": 2,
    }


def test_a_front_point_one_configuration_completed_is_not_missed():
    # two configurations with the very same full run (a forest's box): one stopped, one completed
    r = Replay(
        "x", 0, [trial(70, 50, "pruned", f1=30), trial(70, 50), trial(60, 60, "pruned", f1=20)]
    )
    got = pruning_regret(r)
    assert (got["front"], got["share"]) == (3, pytest.approx(2 / 3))
    assert got["point_share"] == 0.5  # (70, 50) was reached, (60, 60) was not
    assert got["f1_lost"] == 0.0


def q(median, at_least=None):
    return {"median": median, "median_at_least": median if at_least is None else at_least}


def test_ratios_of_medians_say_when_one_median_was_never_reached():
    assert ratio(q(300.0), q(1000.0)) == {"kind": "exact", "ratio": 0.3}
    # the base never reached it in most seeds: its median is above 2000, so the ratio below 0.15
    assert ratio(q(300.0), q(None, 2000.0)) == {"kind": "at most", "ratio": 0.15}
    assert ratio(q(None, 900.0), q(300.0)) == {"kind": "at least", "ratio": 3.0}
    assert ratio(q(None, 900.0), q(None, 300.0)) == {"kind": "unknown", "ratio": None}


def timed(f1, seconds):
    row = trial(f1, 50)
    row["at_seconds"] = row["at_examples"] = seconds
    return row


def test_a_censored_median_is_bounded_by_what_the_seeds_spent():
    # two seeds reach F1 90 at 10 and 20 s; three never do, having spent 50, 60 and 70 s
    runs = [
        Replay("s", 0, [timed(50, 5), timed(90, 10), timed(60, 100)]),
        Replay("s", 1, [timed(90, 20), timed(60, 100)]),
        Replay("s", 2, [timed(50, 50)]),
        Replay("s", 3, [timed(50, 60)]),
        Replay("s", 4, [timed(50, 70)]),
    ]
    budgets = {"seconds": np.array([10.0]), "examples": np.array([10.0])}
    entry = summarize({"s": runs}, 90.0, budgets)["s"]
    assert entry["reached_99"] == 0.4
    assert entry["compute_to_99"]["median"] is None
    assert entry["compute_to_99"]["median_at_least"] == 50.0  # median of 10, 20, >50, >60, >70


def test_pooled_regret_counts_every_seeds_front_members_together():
    one = Replay("s", 0, [trial(70, 50, "pruned", f1=30), trial(60, 40)])  # front of 1, stopped
    three = Replay("s", 1, [trial(70, 50), trial(60, 60), trial(50, 70)])  # front of 3, none
    budgets = {"seconds": np.array([1.0]), "examples": np.array([1.0])}
    regret = summarize({"s": [one, three]}, 90.0, budgets)["s"]["pruning_regret"]
    assert regret["mean"] == 0.5  # the seeds' shares, 1 and 0
    assert regret["pooled"] == 0.25  # 1 stopped of 4 front members


def test_the_default_strategy_is_what_search_run_does_unless_told():
    """A replay's ``default`` must be the shipped default, or its figures are another search's."""
    from search._config import EVALS_PER_RUN, default
    from search.simulate._schedule import Cadence
    from search.simulate._strategies import STRATEGIES

    shipped = STRATEGIES["default"]
    assert (shipped.sampler, shipped.pruner) == (default("sampler"), default("pruner"))
    assert shipped.reduction_factor == default("reduction_factor")
    assert shipped.min_resource == default("min_resource")
    assert shipped.min_trials == default("min_trials")
    assert shipped.cadence == Cadence(evals_per_run=EVALS_PER_RUN)


def test_compute_to_a_target_is_also_told_in_train_and_eval_seconds_apart():
    rows = [timed(50, 5), timed(90, 10), timed(95, 20)]
    for row, evaluated in zip(rows, (1.0, 3.0, 4.0), strict=True):
        row["at_eval_seconds"], row["at_train_seconds"] = evaluated, row["at_seconds"] - evaluated
    entry = summarize({"s": [Replay("s", 0, rows)]}, 100.0, {a: np.array([20.0]) for a in AXES})
    s = entry["s"]
    assert s["compute_to_95"]["median"] == 20.0  # 95 is 95% of 100: the third trial
    assert s["compute_to_95_train_seconds"]["median"] == 16.0
    assert s["compute_to_95_eval_seconds"]["median"] == 4.0
    assert s["compute_spent_eval_seconds"]["median"] == 4.0


def test_targets_are_of_the_best_known_run_and_refused_finer_than_the_surrogates_error():
    t = table(agreeing, trials=10)
    best = best_known(t, None)
    assert best["f1"] == pytest.approx(round(t.best_f1, 4))
    assert best_known(t, 99.0) == {"f1": 99.0, "source": "--best-f1 (a run outside the table)"}
    assert best_known(t, 1.0)["f1"] == best["f1"]  # a worse outside run changes nothing
    chosen = targets({"f1": 80.0, "source": "x"}, {"mae_final_f1": 2.0})
    assert chosen["95"] == {"f1": 76.0, "below_best": 4.0}  # 4 F1 below: coarser than 2
    assert "finer than the surrogate's held-out error on final F1 (2.00)" in chosen["99"]["refused"]
    result = {"s": {"compute_to_99": {"median": 3.0}, "reached_99": 1.0, "compute_to_95": {}}}
    withhold(result, chosen)
    assert (
        result["s"]["compute_to_99"]
        == result["s"]["reached_99"]
        == {"refused": chosen["99"]["refused"]}
    )
    assert result["s"]["compute_to_95"] == {}

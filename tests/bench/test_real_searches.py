"""bench/real_searches.py's figures from recorded searches: compute to a share of the best run."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from real_searches import compute_to, front_point, to_best


def trial(number, state, f1s, values=None, examples=100, train=10.0, evals=2.0):
    steps = [10 * (k + 1) for k in range(len(f1s))]
    return {
        "number": number,
        "state": state,
        "values": values or ([max(f1s), 50.0] if state == "complete" else None),
        "evals": {str(s): [f, 40.0 + f / 10] for s, f in zip(steps, f1s, strict=True)},
        "eval_costs": {str(s): [1.0, examples * (k + 1) // len(f1s)] for k, s in enumerate(steps)},
        "timings_s": {"train": train, "eval": evals},
    }  # fmt: skip


def search(strategy, seed, trials):
    best = max((front_point(t)[0] for t in trials if t["state"] == "complete"), default=0.0)
    return {"strategy": strategy, "seed": seed, "trials": trials, "best_f1": best}


def test_compute_counts_every_trial_up_to_the_first_complete_one_to_reach_the_target():
    trials = [
        trial(2, "complete", [60.0, 71.0]),
        trial(0, "complete", [50.0, 55.0]),
        trial(1, "pruned", [80.0]),  # a stopped trial holds no result, however high
    ]
    got = compute_to({"trials": trials}, 70.0)
    assert got == {"train_examples": 300.0, "train_s": 30.0, "eval_s": 6.0, "seconds": 36.0}
    assert compute_to({"trials": trials}, 72.0) is None


def test_a_single_objective_trial_ends_with_its_last_evaluation_not_its_best():
    last_lower = trial(0, "complete", [75.0, 60.0], values=[60.0])
    assert front_point(last_lower) == (60.0, 46.0)
    assert compute_to({"trials": [last_lower]}, 70.0) is None


def test_a_median_needs_over_half_the_searches_to_reach_the_target():
    high = [trial(0, "complete", [80.0], examples=1000)]
    low = [trial(0, "complete", [50.0], examples=1000)]
    runs = [("default", high), ("default", high), ("default", low), ("random", high)]
    found = to_best([search(name, k, t) for k, (name, t) in enumerate([*runs, ("random", low)])])
    at95 = found["targets"]["95"]
    assert found["best_f1"] == 80.0 and at95["f1"] == pytest.approx(76.0)
    assert at95["strategies"]["default"]["reached"] == 2
    assert at95["strategies"]["default"]["median"]["train_examples"] == 1000.0
    assert at95["strategies"]["random"]["median"] is None  # 1 of 2 is not over half
    assert at95["ratios"] == {"default_over_random": {"none": "random: not reached by over half"}}
    assert "default_over_trainer" not in at95["ratios"]  # no Trainer searches recorded

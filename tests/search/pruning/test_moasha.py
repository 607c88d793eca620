"""MO-ASHA's pure parts: non-dominated sort, order, rungs, the rung decision, the budget."""

from __future__ import annotations

import math
import random

import pytest

from search.pruning._moasha import (
    MAX_STEP,
    Decision,
    budget_saved,
    decide,
    mo_order,
    nondominated_ranks,
    rung_index,
    rung_steps,
)


def _brute_dominates(a, b, maximize) -> bool:
    better = [x > y if up else x < y for x, y, up in zip(a, b, maximize, strict=True)]
    no_worse = [x >= y if up else x <= y for x, y, up in zip(a, b, maximize, strict=True)]
    return all(no_worse) and any(better)


def _brute_ranks(points, maximize) -> list[int]:
    """Reference: peel Pareto fronts, each found by comparing every remaining pair."""
    ranks = [-1] * len(points)
    remaining = set(range(len(points)))
    rank = 0
    while remaining:
        front = {
            i
            for i in remaining
            if not any(_brute_dominates(points[j], points[i], maximize) for j in remaining)
        }
        for i in front:
            ranks[i] = rank
        remaining -= front
        rank += 1
    return ranks


def _random_points(rng: random.Random, n: int, m: int) -> list[tuple[float, ...]]:
    # A coarse grid makes ties and exact duplicates common.
    return [tuple(float(rng.randint(0, 6)) for _ in range(m)) for _ in range(n)]


@pytest.mark.parametrize("m", [1, 2, 3])
def test_nondominated_ranks_match_brute_force_with_duplicates(m: int) -> None:
    rng = random.Random(m)
    for _ in range(150):
        points = _random_points(rng, rng.randint(1, 25), m)
        maximize = [rng.random() < 0.5 for _ in range(m)]
        assert nondominated_ranks(points, maximize) == _brute_ranks(points, maximize)


def test_duplicates_share_a_rank_and_do_not_dominate_each_other() -> None:
    points = [(1.0, 1.0), (1.0, 1.0), (0.5, 0.5), (0.5, 0.5)]
    assert nondominated_ranks(points, [True, True]) == [0, 0, 1, 1]


def test_minimize_flips_the_ranks() -> None:
    points = [(0.0, 0.0), (1.0, 1.0)]
    assert nondominated_ranks(points, [True, True]) == [1, 0]
    assert nondominated_ranks(points, [False, False]) == [0, 1]
    assert nondominated_ranks(points, [True, False]) == [0, 0]


def test_nan_is_worse_than_any_number() -> None:
    assert nondominated_ranks([(math.nan, 1.0), (0.0, 1.0)], [True, True]) == [1, 0]
    assert nondominated_ranks([(math.nan, 1.0), (9.0, 1.0)], [False, True]) == [1, 0]


def test_empty_inputs() -> None:
    assert nondominated_ranks([], [True, True]) == []
    assert mo_order([], [True, True]) == []


def test_mo_order_is_a_permutation_sorted_by_rank() -> None:
    rng = random.Random(7)
    for _ in range(100):
        points = _random_points(rng, rng.randint(1, 30), 2)
        order = mo_order(points, [True, True])
        ranks = nondominated_ranks(points, [True, True])
        assert sorted(order) == list(range(len(points)))
        assert [ranks[i] for i in order] == sorted(ranks)


def test_epsilon_net_starts_at_best_first_objective_then_goes_far() -> None:
    front = [(0.5, 0.5), (0.0, 1.0), (0.9, 0.1), (1.0, 0.0), (0.1, 0.9)]
    order = mo_order(front, [True, True])
    # Seed: best F1 (1, 0); farthest from it: (0, 1); farthest from both: the middle.
    assert order[:3] == [3, 1, 0]


def test_order_does_not_depend_on_the_units_of_an_objective() -> None:
    rng = random.Random(3)
    points = [(rng.random(), rng.random()) for _ in range(40)]
    scaled = [(a, b * 1000.0) for a, b in points]
    assert mo_order(points, [True, True]) == mo_order(scaled, [True, True])


def test_rung_steps() -> None:
    assert rung_steps(1, 3, 27) == [1, 3, 9]
    assert rung_steps(1, 3, 28) == [1, 3, 9, 27]
    assert rung_steps(2, 2, 20) == [2, 4, 8, 16]
    assert rung_steps(5, 3, 5) == []
    unbounded = rung_steps(1, 3, None)
    assert unbounded[:4] == [1, 3, 9, 27]
    assert unbounded[-1] <= MAX_STEP < unbounded[-1] * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 3, 9), "min_resource"), ((1, 1, 9), "reduction_factor"), ((1, 3, 0), "max_resource")],
)
def test_rung_steps_rejects_bad_arguments(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rung_steps(*args)


def test_rung_index_agrees_with_rung_steps() -> None:
    for min_resource, eta in [(1, 3), (2, 2), (3, 4)]:
        rungs = rung_steps(min_resource, eta, 1000)
        for resource in range(1, 1000):
            expected = rungs.index(resource) if resource in rungs else None
            assert rung_index(resource, min_resource, eta) == expected


def test_dominated_trial_is_stopped_and_front_trial_continues() -> None:
    others = [(0.9, 0.9), (0.8, 0.95), (0.7, 0.7), (0.6, 0.6), (0.5, 0.5)]
    assert decide((0.1, 0.1), others, [True, True], 3, 3) is Decision.STOP
    assert decide((0.95, 0.5), others, [True, True], 3, 3) is Decision.CONTINUE


def test_fewer_than_min_trials_results_continue() -> None:
    others = [(0.9, 0.9), (0.8, 0.8)]
    assert decide((0.1, 0.1), others, [True, True], 3, min_trials=4) is Decision.CONTINUE
    assert decide((0.1, 0.1), others, [True, True], 3, min_trials=3) is Decision.STOP


def test_second_rank_continues_when_within_the_top_third() -> None:
    worse = [(0.1 * i, 0.1 * i) for i in range(1, 8)]
    # n = 9, keep ceil(9/3) = 3: one front point ahead, me second.
    assert decide((0.85, 0.85), [(0.9, 0.9), *worse], [True, True], 3, 1) is Decision.CONTINUE
    # Three front points ahead: me fourth, stopped.
    front = [(0.9, 0.9), (0.95, 0.86), (0.86, 0.95)]
    assert decide((0.85, 0.85), front + worse[:5], [True, True], 3, 1) is Decision.STOP


def test_pareto_front_continues_even_when_larger_than_the_top_third() -> None:
    front = [(i / 10, 1 - i / 10) for i in range(11)]
    assert decide((0.55, 0.45), front, [True, True], 3, 1) is Decision.CONTINUE


def test_minimize_objective_is_respected() -> None:
    # F1 maximized, loss minimized: (0.9, 0.2) is better than (0.5, 0.8) in both.
    others = [(0.9, 0.2), (0.85, 0.25), (0.8, 0.3)]
    assert decide((0.5, 0.8), others, [True, False], 3, 1) is Decision.STOP
    assert decide((0.5, 0.1), others, [True, False], 3, 1) is Decision.CONTINUE
    # Read as "maximize loss", the same point would lead and continue.
    assert decide((0.5, 0.8), [(0.4, 0.2)] * 3, [True, True], 3, 1) is Decision.CONTINUE


def test_nan_result_is_stopped() -> None:
    others = [(0.5, 0.5)] * 3
    assert decide((math.nan, math.nan), others, [True, True], 3, 1) is Decision.STOP


def test_decide_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="one per objective"):
        decide((0.1,), [(0.1, 0.2)], [True, True], 3, 1)
    with pytest.raises(ValueError, match="reduction_factor"):
        decide((0.1, 0.1), [], [True, True], 1, 1)


def test_a_pareto_point_of_its_rung_is_never_stopped() -> None:
    rng = random.Random(11)
    checked = 0
    for _ in range(800):
        m = rng.choice([2, 3])
        maximize = [rng.random() < 0.5 for _ in range(m)]
        others = _random_points(rng, rng.randint(0, 30), m)
        me = _random_points(rng, 1, m)[0]
        eta = rng.choice([2, 3, 4])
        min_trials = rng.randint(1, 4)
        decision = decide(me, others, maximize, eta, min_trials)
        if not any(_brute_dominates(other, me, maximize) for other in others):
            checked += 1
            assert decision is Decision.CONTINUE
        elif len(others) + 1 >= min_trials:
            position = mo_order([*others, me], maximize).index(len(others))
            within = position < math.ceil((len(others) + 1) / eta)
            assert decision is (Decision.CONTINUE if within else Decision.STOP)
    assert checked > 100


def test_budget_saved() -> None:
    assert budget_saved([9, 3, 1, 1], 9) == {
        "steps_spent": 14,
        "steps_without_pruning": 36,
        "fraction_saved": pytest.approx(1 - 14 / 36),
    }
    assert budget_saved([9, 9], 9)["fraction_saved"] == 0.0
    assert budget_saved([], 9)["fraction_saved"] == 0.0
    with pytest.raises(ValueError, match="steps"):
        budget_saved([10], 9)

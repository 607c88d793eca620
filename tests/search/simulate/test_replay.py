"""Replays on synthetic tables: deterministic, pruning saves compute where early ranks hold, and
shows its regret where they do not; the service's own sampler and pruner code does the work."""

import numpy as np
import pytest

import search.pruning._pruner
from search._sampling import PrunedAwareTPESampler
from search.simulate._bias import schedule_bias
from search.simulate._metrics import pruning_regret, summarize
from search.simulate._replay import Budget, replay
from search.simulate._schedule import train_rows
from search.simulate._strategies import STRATEGIES, parse_strategies
from search.simulate._surrogate import fit
from tests.search.simulate.synthetic import agreeing, reversed_, table


@pytest.fixture(scope="module")
def agree():
    return fit(table(agreeing), noise=False)


@pytest.fixture(scope="module")
def reverse():
    return fit(table(reversed_), noise=False)


def spent(r):
    return max(t["at_seconds"] for t in r.trials)


def test_a_replay_is_deterministic_for_a_seed():
    s = fit(table(agreeing), noise=True)  # with the residual noise
    runs = [replay(s, STRATEGIES["default"], 3, 2, Budget(trials=20), train_rows(s)) for _ in "ab"]
    assert runs[0].trials == runs[1].trials
    other = replay(s, STRATEGIES["default"], 4, 2, Budget(trials=20), train_rows(s))
    assert [t["params"] for t in other.trials] != [t["params"] for t in runs[0].trials]


def test_where_early_ranks_hold_pruning_saves_half_the_compute_without_regret(agree):
    rows = train_rows(agree)
    for seed in range(3):
        full = replay(agree, STRATEGIES["random"], seed, 1, Budget(trials=40), rows)
        pruned = replay(agree, STRATEGIES["random-moasha"], seed, 1, Budget(trials=40), rows)
        # the same configurations (one worker, the same random sampler seed)
        assert [t["params"] for t in full.trials] == [t["params"] for t in pruned.trials]
        assert any(t["state"] == "pruned" for t in pruned.trials)
        assert spent(pruned) <= 0.5 * spent(full)
        regret = pruning_regret(pruned)
        assert (regret["share"], regret["f1_lost"]) == (0.0, 0.0)
        # a rung keeps the best third of the runs that reached it so far, so even here a run
        # among the five best is stopped where enough better ones reached the rung before it
        assert regret["top_share"] <= 0.4


def test_where_early_ranks_reverse_the_regret_shows(reverse):
    rows = train_rows(reverse)
    regrets = [
        pruning_regret(replay(reverse, STRATEGIES["random-moasha"], seed, 1, Budget(40), rows))
        for seed in range(3)
    ]
    assert all(r["share"] > 0 and r["f1_lost"] > 1.0 for r in regrets)
    unpruned = replay(reverse, STRATEGIES["random"], 0, 1, Budget(trials=40), rows)
    assert pruning_regret(unpruned)["share"] == 0.0


def test_the_services_sampler_and_pruner_do_the_work(agree, monkeypatch):
    decisions, samplers = [], []
    real_keep_going = search.pruning._pruner.MOASHAPruner.keep_going

    def spy(self, study, trial, step, values):
        samplers.append(type(study.sampler))
        keep = real_keep_going(self, study, trial, step, values)
        decisions.append(keep)
        return keep

    monkeypatch.setattr(search.pruning._pruner.MOASHAPruner, "keep_going", spy)
    r = replay(agree, STRATEGIES["default"], 0, 2, Budget(trials=30), train_rows(agree))
    assert decisions and False in decisions  # MO-ASHA was asked, and stopped some
    assert set(samplers) == {PrunedAwareTPESampler}
    assert sum(t["state"] == "pruned" for t in r.trials) == decisions.count(False)


def test_trainer_strategy_prunes_through_optunas_median_rule(agree):
    r = replay(agree, STRATEGIES["trainer"], 0, 1, Budget(trials=30), train_rows(agree))
    assert any(t["state"] == "pruned" for t in r.trials)


def test_summary_has_the_keys_the_json_promises(agree):
    rows = train_rows(agree)
    runs = {
        name: [replay(agree, STRATEGIES[name], seed, 2, Budget(trials=12), rows) for seed in (0, 1)]
        for name in ("default", "random")
    }
    budgets = {"seconds": np.array([50.0, 100.0]), "examples": np.array([1e3, 2e3])}
    out = summarize(runs, 78.4, budgets)
    assert set(out) == {"default", "random"}
    keys = {"compute_to_95", "compute_to_99", "at_budget", "pruning_regret", "pruning_regret_top5"}
    assert keys <= set(out["default"])
    assert set(out["default"]["compute_to_99"]) == {"q1", "median", "q3", "median_at_least"}
    assert set(out["default"]["compute_to_99_vs_random"]) == {"kind", "ratio"}
    assert set(out["default"]["at_budget"]["100"]) == {"best_f1", "hypervolume"}


def test_rungs_by_evaluation_count_favour_short_schedules_and_fractions_do_not():
    t = table(agreeing, trials=60, searched_epochs=True)
    rows = {r["rung"]: r for r in schedule_bias(t)}
    by_count, by_fraction = rows["evaluation 3"], rows["fraction 0.250"]
    assert by_count["top_third_epochs"] < by_count["final_top_third_epochs"] - 0.3
    assert by_fraction["spearman_with_final"] > by_count["spearman_with_final"]
    assert by_fraction["top_third_kept"] == 1.0


def test_per_run_evaluations_remove_the_regret_the_epoch_cadence_causes():
    s = fit(table(agreeing, trials=60, searched_epochs=True), noise=False)
    per_epoch = STRATEGIES["random-moasha"]
    per_run = parse_strategies("random-moasha:run=12")[0]
    regret = {
        name: np.mean(
            [
                pruning_regret(replay(s, st, seed, 1, Budget(40), train_rows(s)))["f1_lost"]
                for seed in range(3)
            ]
        )
        for name, st in (("epoch", per_epoch), ("run", per_run))
    }
    assert regret["run"] < regret["epoch"]


def test_the_default_replays_the_start_up_design_and_design_0_draws_it(agree):
    """Trial n of the start-up takes point n of the design made from the replay's seed, as a
    search.run study does; ``design=0`` is ``--startup random``."""
    from search._design import startup_design
    from search._sampling import TPE_STARTUP
    from search.simulate._replay import space_of

    designed, drawn = parse_strategies("default;default:design=0")
    points = startup_design(space_of(agree), "tiny", TPE_STARTUP, 3)
    budget = Budget(TPE_STARTUP)
    by_design = replay(agree, designed, 3, 2, budget, train_rows(agree)).trials
    at_random = replay(agree, drawn, 3, 2, budget, train_rows(agree)).trials
    matches = [
        sum(all(t["params"][k] == v for k, v in points[t["number"]].items()) for t in run[1:])
        for run in (by_design, at_random)
    ]
    assert matches == [TPE_STARTUP - 1, 0]

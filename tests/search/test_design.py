"""TPE's start-up follows a design that tries every pair of categorical choices (a random start-up
of 16 trials left some pair untried in nearly every seed, and a search whose start-up never
tried the best pair stayed with the others)."""

import itertools
import json

import numpy as np
import optuna
import pytest

from common._cli import UserError
from search._attrs import STARTUP_DESIGN, study_attrs
from search._design import startup_design, untried_pairs
from search._sampling import TPE_STARTUP, klue_recipe, make_sampler, suggest, worker_seed
from search._space import Choice, FloatRange, IntRange, Space, load_space
from search.analysis._report_data import build_report
from search.analysis._report_markdown import _header
from search.run import main
from search.testing import ENV, RUNNER
from storage._liveness import enqueue_retry

TINY = load_space(None, "tiny")
CHOICES = [n for n, p in TINY.params.items() if isinstance(p, Choice)]


def random_startup(seed: int) -> list[dict]:
    """16 start-up points as a random start-up draws them."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [suggest(study.ask(), TINY) for _ in range(TPE_STARTUP)]


def test_every_pair_of_choices_is_tried_where_a_random_start_up_misses_some():
    designed = [
        untried_pairs(startup_design(TINY, "tiny", 16, s), TINY, CHOICES) for s in range(30)
    ]
    drawn = [untried_pairs(random_startup(s), TINY, CHOICES) for s in range(30)]
    assert designed == [0] * 30
    assert sum(m > 0 for m in drawn) >= 25  # what the design is for


def test_the_recipe_is_the_designs_first_point_and_the_rest_still_try_every_pair():
    """Trial 0 is the KLUE recipe: its pairs count as tried, and no point of the design is one
    that no trial takes."""
    recipe = klue_recipe("tiny", TINY)
    for seed in range(30):
        design = startup_design(TINY, "tiny", 16, seed, first=[recipe])
        assert design[0] == {k: recipe[k] for k in design[0]} and len(design) == 16
        assert untried_pairs(design, TINY, CHOICES) == 0, seed


def test_points_lie_in_the_space_and_every_range_is_stratified():
    design = startup_design(TINY, "tiny", 16, 3)
    for point in design:
        for name, value in point.items():
            p = TINY.params[name]
            if isinstance(p, Choice):
                assert value in p.choices
            else:
                assert p.low <= value <= p.high
                assert isinstance(value, int) == isinstance(p, IntRange)
    lr = TINY.params["learning_rate"]
    assert isinstance(lr, FloatRange) and lr.log
    strata = sorted(
        int(16 * np.log(pt["learning_rate"] / lr.low) / np.log(lr.high / lr.low)) for pt in design
    )
    assert strata == list(range(16))  # one point in each sixteenth of the log range
    epochs = [pt["num_train_epochs"] for pt in design]
    assert {epochs.count(k) for k in (1, 2, 3)} <= {5, 6}


def test_the_same_seed_gives_the_same_design_and_another_seed_another():
    assert startup_design(TINY, "tiny", 16, 5) == startup_design(TINY, "tiny", 16, 5)
    assert startup_design(TINY, "tiny", 16, 5) != startup_design(TINY, "tiny", 16, 6)


def test_a_model_choice_takes_each_points_model_range():
    space = Space(
        {
            "model": Choice(("small", "large")),
            "learning_rate": FloatRange(
                1e-4, 1e-3, log=True, by_model={"large": FloatRange(1e-6, 1e-5, log=True)}
            ),
        },
        "test.toml",
    )
    design = startup_design(space, None, 8, 0)
    assert {pt["model"] for pt in design} == {"small", "large"}
    for pt in design:
        low, high = (1e-6, 1e-5) if pt["model"] == "large" else (1e-4, 1e-3)
        assert low <= pt["learning_rate"] <= high


def test_workers_sharing_a_study_take_the_design_by_trial_number():
    design = startup_design(TINY, "tiny", TPE_STARTUP, 1)
    design[4]["markers"] = "not a choice"  # a space changed since: drawn at random instead
    storage = optuna.storages.InMemoryStorage()
    studies = [
        optuna.create_study(
            storage=storage,
            study_name="s",
            directions=["maximize"] * 2,
            sampler=make_sampler("tpe", worker_seed(1, w), design),
            load_if_exists=True,
        )
        for w in range(2)
    ]
    for i in range(TPE_STARTUP + 4):
        trial = studies[i % 2].ask()
        params = {k: v for k, v in suggest(trial, TINY).items() if k in design[0]}
        if trial.number < TPE_STARTUP and trial.number != 4:
            assert params == design[trial.number]
        if trial.number == 4:
            assert params["markers"] in TINY.params["markers"].choices
            assert {k: v for k, v in params.items() if k != "markers"} == {
                k: v for k, v in design[4].items() if k != "markers"
            }
        studies[i % 2].tell(trial, [0.1, 0.2])


def test_a_search_records_its_design_and_its_workers_follow_it(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, json.dumps({"seconds_per_eval": 0.02}))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "d", "--quiet",
            "--pruner", "none", "--seed", "4", "--trials", "10", "--workers", "2"]  # fmt: skip
    assert main(argv) == 0
    study = optuna.load_study(study_name="d", storage=storage)
    recorded = study_attrs(study)[STARTUP_DESIGN]
    assert recorded["seed"] == 4 and len(recorded["points"]) == TPE_STARTUP
    recipe = klue_recipe("tiny", TINY)
    expected = startup_design(TINY, "tiny", 16, 4, first=[recipe])
    assert recorded["points"] == json.loads(json.dumps(expected))
    for trial in study.trials:
        point = recorded["points"][trial.number]  # trial 0, the recipe, included
        assert {k: trial.params[k] for k in point} == point
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) == 2
    header = " ".join(_header(build_report(study)))
    assert "TPE's first 16 trials from a design (Latin hypercube" in header and "seed 4)" in header


def test_pairs_counted_over_every_two_choices():
    space = Space({"a": Choice((1, 2)), "b": Choice(("x", "y", "z")), "c": Choice((0,))}, "t")
    design = [{"a": a, "b": b, "c": 0} for a, b in itertools.product((1, 2), ("x", "y"))]
    assert untried_pairs(design, space, ["a", "b", "c"]) == 3  # (1, z), (2, z) and (z, 0)


def test_startup_random_records_no_design_and_a_wrong_value_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "r", "--quiet",
            "--pruner", "none", "--seed", "4", "--trials", "3", "--startup", "random"]  # fmt: skip
    assert main(argv) == 0
    attrs = study_attrs(optuna.load_study(study_name="r", storage=storage))
    assert STARTUP_DESIGN not in attrs and attrs["startup"] == "random"
    with pytest.raises(UserError, match="--startup: 'latin' is not one of design, random"):
        main([*argv[:-1], "latin"])
    assert len(optuna.get_all_study_summaries(storage)) == 1  # nothing written


def _ask_tell(study, n, objective):
    for _ in range(n):
        trial = study.ask()
        params = suggest(trial, TINY)
        study.tell(trial, objective(params))


def _learning_rates_after_the_design(explore: int) -> tuple[list, list]:
    """Learning rates TPE drew after the design for an objective best at the lowest rate: those of
    trials drawn at random (numbers K-1, 2K-1, ...) and those of the others."""
    design = startup_design(TINY, "tiny", TPE_STARTUP, 2)
    study = optuna.create_study(
        directions=["maximize"] * 2, sampler=make_sampler("tpe", 2, design, explore=explore)
    )
    lr = TINY.params["learning_rate"]
    best = np.log(lr.low)  # F1 falls with the distance from the lowest learning rate

    def objective(params):
        score = 1.0 - abs(np.log(params["learning_rate"]) - best) / (np.log(lr.high) - best)
        return [score, score]

    _ask_tell(study, 64, objective)
    # none of the design's trials is replaced by a random one
    for t in study.trials[:TPE_STARTUP]:
        assert {k: t.params[k] for k in design[t.number]} == design[t.number]
    high = np.exp((np.log(lr.low) + np.log(lr.high)) / 2)  # the upper half of the range
    after = [t for t in study.trials if t.number >= TPE_STARTUP]
    random = [t.params["learning_rate"] > high for t in after if explore and t.number % 3 == 2]
    modelled = [t.params["learning_rate"] > high for t in after if not explore or t.number % 3 != 2]
    return random, modelled


def test_every_third_trial_after_the_design_explores_where_tpe_exploits():
    """A model sure of its best learning rate samples near it; the explored trials do not."""
    random, modelled = _learning_rates_after_the_design(explore=3)
    assert np.mean(modelled) < 0.15 < 0.3 < np.mean(random)


def test_explore_0_keeps_every_trial_after_the_design_near_the_models_best():
    random, modelled = _learning_rates_after_the_design(explore=0)
    assert not random and len(modelled) == 64 - TPE_STARTUP
    assert np.mean(modelled) < 0.15


def test_a_retried_trial_takes_the_design_point_of_the_trial_it_retries():
    """A trial failed before it drew its values (a storage outage at its start) is retried with
    none: the retry takes the failed trial's point, so no point of the design goes untried."""
    design = startup_design(TINY, "tiny", TPE_STARTUP, 3)
    sampler = make_sampler("tpe", 3, design, explore=3)
    study = optuna.create_study(directions=["maximize"] * 2, sampler=sampler)
    failed = study.ask()
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    enqueue_retry(study, study.trials[0], max_retry=2)
    retry = study.ask()
    params = suggest(retry, TINY)
    assert retry.number == 1
    assert {k: params[k] for k in design[0]} == design[0]
    assert not sampler.explores(study.trials[1])  # counted as trial 0


def test_a_search_records_explore_and_a_negative_value_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "e", "--quiet",
            "--pruner", "none", "--seed", "4", "--trials", "2", "--explore", "5"]  # fmt: skip
    assert main(argv) == 0
    study = optuna.load_study(study_name="e", storage=storage)
    assert study_attrs(study)["explore"] == 5
    assert "every 5th trial after them drawn at random" in " ".join(_header(build_report(study)))
    with pytest.raises(UserError, match=r"--explore: must be 0 .* got -1"):
        main([*argv[:-1], "-1"])
    assert len(optuna.get_all_study_summaries(storage)) == 1  # nothing written


@pytest.mark.parametrize(
    ("k", "words"), [(1, "every trial"), (2, "every 2nd trial"), (3, "every 3rd trial"),
                     (11, "every 11th trial"), (21, "every 21st trial")],
)  # fmt: skip
def test_the_report_says_how_often_trials_are_drawn_at_random(k, words):
    header = " ".join(_header({"objectives": ["micro_f1"], "explore": k}))
    assert f"{words} after them drawn at random" in header

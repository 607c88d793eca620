"""Every (seed, worker) pair of a search samples its own stream (issue: consecutive seeds shared
configurations when worker k sampled with seed + k)."""

import json

import optuna

from search._attrs import ORIGIN, study_attrs
from search._sampling import SEED_DERIVATION, worker_seed
from search.analysis._report_data import build_report
from search.analysis._report_markdown import _header
from search.run import main
from search.testing import ENV, RUNNER


def test_no_two_seed_worker_pairs_share_a_seed():
    seeds = {worker_seed(s, w) for s in range(200) for w in range(8)}
    assert len(seeds) == 200 * 8
    assert worker_seed(21, 1) != worker_seed(22, 0)
    assert worker_seed(5, 3) == worker_seed(5, 3)


def search(storage, study, seed, workers):
    argv = ["--runner", RUNNER, "--storage", storage, "--study", study, "--quiet",
            "--sampler", "random", "--pruner", "none", "--seed", str(seed),
            "--trials", "12", "--workers", str(workers)]  # fmt: skip
    assert main(argv) == 0
    return optuna.load_study(study_name=study, storage=storage)


def sampled(study):
    """The configurations the sampler drew (the enqueued recipe left out), in trial order."""
    return [
        json.dumps(t.params, sort_keys=True) for t in study.trials if ORIGIN not in t.user_attrs
    ]


def test_searches_with_consecutive_seeds_share_no_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, json.dumps({"seconds_per_eval": 0.02}))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first, second = search(storage, "s21", 21, 2), search(storage, "s22", 22, 2)
    for study in (first, second):
        assert len({t.user_attrs["worker"] for t in study.trials}) == 2  # both workers sampled
        assert len(sampled(study)) == 11
    assert not set(sampled(first)) & set(sampled(second))
    attrs = study_attrs(first)
    assert (attrs["seed"], attrs["worker_seeds"]) == (21, SEED_DERIVATION)
    assert "seed 21" in " ".join(_header(build_report(first)))


def test_the_same_seed_with_one_worker_reproduces_the_configurations(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    assert sampled(search(storage, "a", 7, 1)) == sampled(search(storage, "b", 7, 1))

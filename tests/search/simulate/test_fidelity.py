"""Real searches against the replays' bands, and the noise models the bands come from."""

import json
from dataclasses import replace

import numpy as np
import pytest

from common._cli import UserError
from search.simulate._noise import draw, seed_pool
from search.simulate._real import read_real, real_curves, with_others, without
from search.simulate._surrogate import _key, fit
from search.simulate._table import Curve, Table, export_table, load_table
from search.simulate.fidelity import main
from tests.search.simulate.synthetic import agreeing, table


def seeded(base: Table, spread: float) -> Table:
    """Each configuration run three times, its F1 shifted by -spread, 0 and +spread."""
    curves = []
    for c in base.curves:
        for k, shift in enumerate((-spread, 0.0, spread)):
            evals = c.evals.copy()
            evals[:, 3] += shift
            curves.append(Curve(c.number * 3 + k, c.params, c.total_steps, 0.1, evals))
    return Table("seeded", base.distributions, tuple(curves), base.metadata)


def test_seed_noise_is_each_runs_deviation_from_its_configurations_mean():
    pool = seed_pool(list(seeded(table(agreeing, trials=6), 2.0).curves), _key)
    assert len(pool) == 18
    finals = sorted({round(float(p[1][-1, 0]), 6) for p in pool})
    scale = np.sqrt(3 / 2)  # one run's spread, not the spread about a mean of three
    assert finals == pytest.approx([-2.0 * scale, 0.0, 2.0 * scale])


def test_a_draw_takes_a_curve_of_a_run_at_the_same_level():
    f = np.array([0.5, 1.0])
    pool = [(f, np.full((2, 2), 30.0), 10.0)] + [(f, np.zeros((2, 2)), 60.0 + i) for i in range(12)]
    rng = np.random.default_rng(0)
    assert all(draw(pool, 65.0, rng)[1][0, 0] == 0.0 for _ in range(50))


def test_no_repeated_seeds_no_seed_noise():
    with pytest.raises(UserError, match="no repeated-seed runs"):
        fit(table(agreeing, trials=10), noise="seeds")


def real_file(tmp_path, searches):
    path = tmp_path / "real.json"
    path.write_text(json.dumps({"format": "real_searches/1", "searches": searches}))
    return path


def search(seed, best_f1, hv, examples, strategy="random"):
    compute = {"train_s": 100.0, "eval_s": 20.0, "train_examples": examples}
    return {"strategy": strategy, "seed": seed, "trials": [{}] * 8, "workers": 2,
            "best_f1": best_f1, "hypervolume": hv, "compute": compute}  # fmt: skip


def test_a_real_search_like_the_replays_is_inside_and_one_far_off_is_not(tmp_path, capsys):
    t = seeded(table(agreeing, trials=20), 1.0)
    export_table(t, tmp_path / "t.jsonl.gz")
    # 8 random trials of x in [0, 1]: the best final F1 80x is high; 5.0 is far below any band
    probe = main(["--table", str(tmp_path / "t.jsonl.gz"), "--real",
                  str(real_file(tmp_path, [search(1, 5.0, 10.0, 9000.0)])),
                  "--seeds", "20", "--json", str(tmp_path / "f.json")])  # fmt: skip
    assert probe == 0
    result = json.loads((tmp_path / "f.json").read_text())
    low, high = result["searches"][0]["bands"]["examples"]["best_f1"]
    assert result["counts"]["random"]["examples:best_f1"] == 0 and low > 5.0
    middle = (low + high) / 2
    hv_low, hv_high = result["searches"][0]["bands"]["examples"]["hypervolume"]
    real = real_file(tmp_path, [search(2, middle, (hv_low + hv_high) / 2, 9000.0)])
    main(["--table", str(tmp_path / "t.jsonl.gz"), "--real", str(real), "--seeds", "20",
          "--json", str(tmp_path / "f.json")])  # fmt: skip
    counts = json.loads((tmp_path / "f.json").read_text())["counts"]["random"]
    assert counts["examples:best_f1"] == counts["examples:both"] == 1
    assert "inside the replays' 10-90% band" in capsys.readouterr().out


def test_a_real_file_without_its_fields_is_one_line(tmp_path):
    with pytest.raises(UserError, match="search 0 lacks or mangles a field"):
        read_real(real_file(tmp_path, [{"strategy": "random"}]))
    with pytest.raises(UserError, match="no such file"):
        read_real(tmp_path / "nope.json")


def test_a_configurations_other_seeds_are_held_out_with_it():
    # pure-noise curves, each configuration run three times alike: with a run's twins in the
    # fit, k-NN would copy them and look perfect
    rng = np.random.default_rng(0)
    base = table(agreeing, trials=20)
    noisy = []
    for c in base.curves:
        evals = c.evals.copy()
        evals[:, 3:5] = rng.uniform(0, 60, (len(evals), 2))
        noisy.append(Curve(c.number, c.params, c.total_steps, 0.1, evals))
    tripled = seeded(Table("n", base.distributions, tuple(noisy), base.metadata), 0.0)
    s = fit(tripled)
    assert s.error["candidates"]["knn"]["mae_f1"] > 10
    assert "20 configurations, 60 runs" in s.error["held_out"]


def test_real_searches_under_another_name_are_replayed_as_told_or_skipped(tmp_path, capsys):
    export_table(seeded(table(agreeing, trials=12), 1.0), tmp_path / "t.jsonl.gz")
    real = real_file(tmp_path, [search(1, 50.0, 2000.0, 9000.0, strategy="old-default")])
    argv = ["--table", str(tmp_path / "t.jsonl.gz"), "--real", str(real), "--seeds", "4"]
    main(argv)
    assert "not replayed (no such strategy; map them with --as): old-default" in (
        capsys.readouterr().out
    )
    main([*argv, "--as", "old-default=random-moasha:r=2", "--json", str(tmp_path / "f.json")])
    result = json.loads((tmp_path / "f.json").read_text())
    assert result["counts"]["old-default"]["searches"] == 1
    assert result["about"]["as"] == {"old-default": "random-moasha:r=2"}
    with pytest.raises(UserError, match="--as: 'nonsense' is not REAL_NAME=STRATEGY"):
        main([*argv, "--as", "nonsense"])


def test_each_search_learns_from_the_other_searches_runs_never_its_own(tmp_path):
    export_table(seeded(table(agreeing, trials=12), 1.0), tmp_path / "t.jsonl.gz")
    runs = [
        {"number": n, "state": state, "params": {"x": 0.5 + 0.1 * n, "kind": "a"},
         "evals": {"2": [10.0, 7.0], "4": [20.0, 15.0]},
         "eval_costs": {"2": [1.0, 64], "4": [2.0, 128]}, "timings_s": {"eval": 0.2}}
        for n, state in ((0, "complete"), (1, "pruned"), (2, "fail"))
    ]  # fmt: skip
    searches = [search(1, 50.0, 2000.0, 9000.0), search(2, 50.0, 2000.0, 9000.0)]
    searches[0]["trials"] = runs
    real = real_file(tmp_path, searches)
    parsed = read_real(real)
    curves = real_curves(parsed[0], rows=320, fixed={"num_train_epochs": 3})
    assert [c.partial for c in curves] == [False, True]  # the failed trial is no curve
    assert curves[1].total_steps == 10 * 3  # 320 rows / batch 32, 3 epochs (synthetic default)
    argv = ["--table", str(tmp_path / "t.jsonl.gz"), "--real", str(real), "--seeds", "4"]
    main([*argv, "--learn-real", "--json", str(tmp_path / "f.json")])
    about = json.loads((tmp_path / "f.json").read_text())["about"]
    base = about["surrogate"]["held_out"]
    assert "36 runs" in base  # the table alone
    assert about["learn_real"] and len(about["surrogate_final_f1_mae_per_search"]) == 2


def test_a_table_holding_real_searches_runs_never_shows_a_search_its_own(tmp_path):
    base = seeded(table(agreeing, trials=6), 1.0)
    own = [replace(c, number=900 + i, source="real:random:1") for i, c in enumerate(base.curves)]
    other = [replace(c, source="real:random:2", number=c.number + 50) for c in own[:2]]
    own = own[:4]
    held = replace(base, curves=base.curves + tuple(own) + tuple(other))
    export_table(held, tmp_path / "t.jsonl.gz")
    back = load_table(str(tmp_path / "t.jsonl.gz"))
    assert sum(c.source == "real:random:1" for c in back.curves) == 4  # the source survives
    one, two = search(1, 50.0, 2000.0, 9000.0), search(2, 50.0, 2000.0, 9000.0)
    assert all(c.source != "real:random:1" for c in without(back, one).curves)
    assert len(without(back, one).curves) == len(base.curves) + 2
    # from the file, not twice: the table's copies of searches in the file are dropped
    mixed = with_others(back, [one, two], one, rows=320)
    assert {c.source for c in mixed.curves} == {None}
    assert len(mixed.curves) == len(base.curves)  # search 2 has no trials in this file

"""Tables from studies and exports, the surrogate's held-out error, the CLI's one-line errors."""

import gzip
import json

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from common._cli import UserError
from search.simulate.__main__ import main
from search.simulate._strategies import parse_strategies
from search.simulate._surrogate import candidates, curve_rows, fast_predict, fit
from search.simulate._table import Curve, Table, export_table, load_table, table_from_study
from tests.search.simulate.synthetic import agreeing, table


def add_trial(study, x, state=TrialState.COMPLETE, costs=True, steps=(2, 4, 6)):
    evals = {str(s): [10 * x * s, 5 * x * s] for s in steps}
    attrs = {"evals": evals, "run": {"total_steps": 6, "timings_s": {"eval": 0.3}}}
    if costs:
        attrs["eval_costs"] = {str(s): [1.0 * s, 32 * s] for s in steps}
    attrs["hparams"] = {"num_train_epochs": 1, "per_device_train_batch_size": 32}
    values = [60 * x, 30 * x] if state == TrialState.COMPLETE else None
    study.add_trial(
        create_trial(
            state=state,
            values=values,
            params={"x": x},
            distributions={"x": FloatDistribution(0, 1)},
            user_attrs=attrs,
        )
    )


def study_of(tmp_path, names=("micro_f1", "auprc"), xs=(0.2, 0.5, 0.8)):
    storage = f"sqlite:///{tmp_path / 't.db'}"
    study = optuna.create_study(storage=storage, study_name="t", directions=["maximize"] * 2)
    study.set_metric_names(list(names))
    for x in xs:
        add_trial(study, x)
    return storage, study


def test_a_study_and_its_export_are_the_same_table(tmp_path):
    storage, _ = study_of(tmp_path)
    from_study = load_table(storage, "t")
    assert len(from_study.curves) == 3 and from_study.best_f1 == pytest.approx(48.0)
    assert from_study.curves[0].evals[:, 1:3].tolist() == [[2, 64], [4, 128], [6, 192]]
    path = tmp_path / "t.jsonl.gz"
    export_table(from_study, path)
    again = load_table(str(path))
    assert [c.params for c in again.curves] == [c.params for c in from_study.curves]
    assert np.allclose(again.curves[2].evals, from_study.curves[2].evals)
    assert again.metadata["fixed"] == {"num_train_epochs": 1, "per_device_train_batch_size": 32}


def test_a_study_that_is_no_table_gets_one_line(tmp_path):
    _, study = study_of(tmp_path)
    add_trial(study, 0.4, costs=False)
    with pytest.raises(UserError, match="trial 3 has no 'eval_costs'"):
        table_from_study(study)


def test_a_pruned_studys_pruned_trials_are_partial_curves_and_say_so(tmp_path, capsys):
    storage, study = study_of(tmp_path)
    add_trial(study, 0.99, state=TrialState.PRUNED, steps=(2,))
    t = table_from_study(study)
    assert [c.partial for c in t.curves] == [False, False, False, True]
    assert t.best_f1 == pytest.approx(48.0)  # a partial curve is no full run: 0.99 * 20 * 2
    assert t.partial_share == {"runs": 0.25, "evaluations": 0.1}
    path = tmp_path / "t.jsonl.gz"
    export_table(t, path)
    assert [c.partial for c in load_table(str(path)).curves] == [False, False, False, True]
    argv = ["--storage", storage, "--study", "t", "--seeds", "1", "--budget", "4"]
    assert main([*argv, "--processes", "1", "--strategies", "random"]) == 0
    out = capsys.readouterr().out
    assert "3 full runs and 1 partial curves of pruned trials (25% of the runs, 10% of" in out


@pytest.mark.parametrize("text", ["default;random;tpe", "default,random,tpe"])
def test_strategies_take_either_separator(text):
    assert [s.name for s in parse_strategies(text)] == ["default", "random", "tpe"]


def test_a_strategys_options_stay_with_it_under_either_separator():
    names = [s.name for s in parse_strategies("default:eta=2,r=2,random;tpe:run=6")]
    assert names == ["default:eta=2,r=2", "random", "tpe:run=6"]
    assert parse_strategies("default:eta=2,r=2,random")[0].min_resource == 2


def test_a_study_with_other_objectives_is_refused(tmp_path):
    _, study = study_of(tmp_path, names=("micro_f1", "loss"))
    with pytest.raises(UserError, match="are not micro_f1, auprc"):
        table_from_study(study)


def test_the_surrogates_error_is_on_trials_held_out_of_its_fit():
    # curves that are pure noise: a model scored on its own rows would look near perfect
    rng = np.random.default_rng(0)
    base = table(agreeing, trials=30)
    noisy = []
    for c in base.curves:
        evals = c.evals.copy()
        evals[:, 3] = rng.uniform(0, 80, len(evals))
        evals[:, 4] = rng.uniform(0, 60, len(evals))
        noisy.append(Curve(c.number, c.params, c.total_steps, c.eval_seconds, evals))
    s = fit(Table("noise", base.distributions, tuple(noisy), base.metadata))
    assert s.error["mae_f1"] > 10 and s.error["mae_auprc"] > 8
    assert set(s.error["candidates"]) == {"random_forest", "knn"}
    assert s.error["model"] in s.error["candidates"]


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--table", "nope.jsonl.gz"], "--table nope.jsonl.gz: no such file"),
        (["--table", "T", "--strategies", "default,bogus"], "--strategies: 'bogus'"),
        (["--table", "T", "--strategies", "default:eta=1"], "eta must be at least 2"),
        (["--table", "T", "--budget", "lots"], "--budget: 'lots'"),
        (["--table", "T", "--budget", "0"], "--budget: '0'"),
        (["--table", "T", "--seeds", "0"], "--seeds"),
        (["--table", "T", "--study", "x"], "--table FILE, or --storage URL"),
        (["--storage", "sqlite:///S", "--study", "nope"], "--study nope: no such study"),
        (["--table", "BAD"], "not a gzip'd table export"),
        (["--storage", "sqlite:///no/such.db", "--study", "t"], "no/such.db does not exist"),
        (["--table", "HEAD"], "line 1 is not a search-table/1 header"),
    ],
)
def test_bad_input_is_one_line_naming_it(tmp_path, capsys, flags, named):
    storage, _ = study_of(tmp_path)
    good = tmp_path / "t.jsonl.gz"
    export_table(load_table(storage, "t"), good)
    (tmp_path / "bad").write_text("not gzip")
    with gzip.open(tmp_path / "head", "wt") as f:
        f.write(json.dumps({"format": "other"}) + "\n")
    swap = {"T": str(good), "S": str(tmp_path / "t.db"), "BAD": str(tmp_path / "bad")}
    swap["HEAD"] = str(tmp_path / "head")
    flags = [swap.get(f, f).replace("sqlite:///S", storage) for f in flags]
    with pytest.raises(UserError, match=named.replace("(", r"\(")):
        main(flags)


def test_the_cli_writes_json_keyed_by_strategy(tmp_path, capsys):
    storage, _ = study_of(tmp_path, xs=np.linspace(0.1, 0.9, 12))
    out = tmp_path / "sim.json"
    argv = ["--storage", storage, "--study", "t", "--seeds", "2", "--budget", "10"]
    assert main([*argv, "--processes", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"default", "random", "tpe", "random-moasha", "nsga2-moasha", "trainer"} <= set(result)
    assert result["simulation"]["surrogate"]["model"] in ("random_forest", "knn")
    about = result["simulation"]
    assert about["best_known"]["f1"] == pytest.approx(round(load_table(storage, "t").best_f1, 4))
    assert set(about["targets"]) == {"95", "99"}
    out = capsys.readouterr().out
    assert "held-out MAE" in out and "targets: of" in out and "99%: train s" in out


def test_fast_predictions_are_scikit_learns():
    s = fit(table(agreeing, trials=20))
    x, y, _ = curve_rows(s.table)
    for model in candidates().values():
        model.fit(x, y)
        assert np.allclose(fast_predict(model, x[:7] + 0.01), model.predict(x[:7] + 0.01))

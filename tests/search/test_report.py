"""``python -m search.report`` on synthetic SQLite studies and on a mocked search."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from common._cli import UserError
from objectives import finetune
from objectives._hparams import HParams
from search import report
from search._attrs import trial_hparams
from search.analysis import _plots as plots
from search.analysis import _report_data as report_data
from search.pruning._evaluations import evals_of
from search.testing import RUNNER

OBJECTIVES = ["micro_f1", "auprc"]
DISTRIBUTIONS = {
    "learning_rate": FloatDistribution(1e-5, 1e-3, log=True),
    "focal_gamma": FloatDistribution(0.0, 3.0),
    "max_len": CategoricalDistribution([64, 128, 256]),
}
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")

RECIPE = {"learning_rate": 5e-5, "focal_gamma": 0.0, "max_len": 128}


def add_trial(study, params, values=None, state=TrialState.COMPLETE, **attrs):
    evals = attrs.pop("evals", None)
    if evals is None and values is not None:
        evals = {"10": [v * 0.5 for v in values], "20": list(values)}
    user_attrs = {
        "model": "tiny",
        "hparams": HParams(**params).to_dict(),
        "evals": evals or {},
        **attrs,
    }
    study.add_trial(
        create_trial(
            state=state,
            values=values,
            params=params,
            distributions=DISTRIBUTIONS,
            user_attrs=user_attrs,
            intermediate_values={int(s): v[0] for s, v in (evals or {}).items()},
        )
    )


def new_study(url, name, objectives=OBJECTIVES, hypotheses=()):
    study = optuna.create_study(
        storage=url, study_name=name, directions=["maximize"] * len(objectives)
    )
    study.set_metric_names(list(objectives))
    study.set_user_attr("objectives", list(objectives))
    study.set_user_attr("model", "tiny")
    study.set_user_attr("hypotheses", [{"text": h, "from_trial": 0} for h in hypotheses])
    return study


def synthetic_values(params, rng):
    """A trade-off: focal_gamma helps F1 and hurts AUPRC; max_len 64 hurts both."""
    short = 8.0 if params["max_len"] == 64 else 0.0
    f1 = 40 + 6 * params["focal_gamma"] - short + rng.gauss(0, 0.5)
    auprc = 55 - 5 * params["focal_gamma"] - short + rng.gauss(0, 0.5)
    return [f1, auprc]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A two-objective study of 16 complete trials, one pruned, the recipe as trial 0, reported."""
    root = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{root / 'study.db'}"
    study = new_study(
        url,
        "syn",
        hypotheses=["focal_gamma > 1 improves f1", "longer training is better"],
    )
    rng = random.Random(0)
    add_trial(study, RECIPE, synthetic_values(RECIPE, rng), origin="KLUE paper recipe")
    for _ in range(15):
        params = {
            "learning_rate": 10 ** rng.uniform(-5, -3),
            "focal_gamma": rng.uniform(0, 3),
            "max_len": rng.choice([64, 128, 256]),
        }
        add_trial(study, params, synthetic_values(params, rng))
    add_trial(study, RECIPE, state=TrialState.PRUNED, evals={"10": [12.0, 11.0]})
    out = root / "out"
    assert report.main(["--storage", url, "--study", "syn", "--out", str(out), "--no-png"]) == 0
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {
        "url": url,
        "study": optuna.load_study(study_name="syn", storage=url),
        "out": out,
        "json": data,
        "md": (out / "report.md").read_text(encoding="utf-8"),
    }


def nondominated(trials):
    complete = [t for t in trials if t.state == TrialState.COMPLETE]

    def dominated(a):
        return any(
            all(x >= y for x, y in zip(b.values, a.values, strict=True)) and b.values != a.values
            for b in complete
        )

    return {t.number for t in complete if not dominated(t)}


def test_missing_study_is_a_one_line_error_listing_the_studies(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    for name in ("beta", "alpha"):
        optuna.create_study(storage=url, study_name=name)
    out = tmp_path / "out"
    with pytest.raises(UserError, match="studies there: alpha, beta") as caught:
        report.main(["--storage", url, "--study", "gamma", "--out", str(out)])
    assert "\n" not in str(caught.value)
    assert not out.exists()


def test_the_only_study_is_the_default_and_several_need_a_name(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    add_trial(new_study(url, "only"), RECIPE, [40.0, 35.0])
    monkeypatch.chdir(tmp_path)
    assert report.main(["--storage", url, "--no-png"]) == 0
    assert (tmp_path / "reports" / "only" / "report.json").exists()
    optuna.create_study(storage=url, study_name="other")
    with pytest.raises(UserError, match=r"required when the storage holds several; .*only, other"):
        report.main(["--storage", url, "--no-png"])


def test_a_missing_sqlite_file_is_not_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"searches\.db does not exist"):
        report.main(["--study", "s"])  # the default storage, as search.run's
    assert not (tmp_path / "searches.db").exists()


def test_counts_by_state(synthetic):
    counts = synthetic["json"]["counts"]
    assert (counts["complete"], counts["pruned"], counts["fail"]) == (16, 1, 0)
    assert "| 16 | 1 | 0 | 0 | 0 |" in synthetic["md"]


def test_pareto_table_is_the_nondominated_trials(synthetic):
    study, rows = synthetic["study"], synthetic["json"]["pareto"]
    assert {r["trial"] for r in rows} == nondominated(study.trials)
    assert len(rows) >= 2  # the synthetic trade-off has more than one optimum
    by_number = {t.number: t for t in study.trials}
    for row in rows:
        trial = by_number[row["trial"]]
        assert row["values"] == dict(zip(OBJECTIVES, trial.values, strict=True))
        assert row["params"]["max_len"] == trial.params["max_len"]
        f1, auprc = trial.values
        assert f"| {trial.number} | {f1:.2f} | {auprc:.2f} |" in synthetic["md"]


def test_best_per_objective_and_the_distance_to_the_baseline(synthetic):
    study, data = synthetic["study"], synthetic["json"]
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    for i, name in enumerate(OBJECTIVES):
        best = max(complete, key=lambda t, i=i: t.values[i])
        assert data["best"][name]["trial"] == best.number
        base = study.trials[0].values[i]
        assert data["baseline"]["best_above"][name] == pytest.approx(best.values[i] - base)
    assert data["baseline"]["trial"] == 0 and data["baseline"]["state"] == "complete"


def test_importances_for_each_objective_are_reproducible(synthetic):
    study, data = synthetic["study"], synthetic["json"]
    for i, name in enumerate(OBJECTIVES):
        ranking = data["importances"][name]["importances"]
        assert set(ranking) == set(DISTRIBUTIONS)
        assert sum(ranking.values()) == pytest.approx(1.0)
        assert next(iter(ranking)) == "focal_gamma"  # the synthetic values depend on it most
        again = report_data.param_importances(study, i, study.trials)["importances"]
        assert again == pytest.approx(ranking)


def test_exported_configs_round_trip_into_hparams(synthetic, monkeypatch):
    study, out, data = synthetic["study"], synthetic["out"], synthetic["json"]
    expected = {"best_f1.json", "best_auprc.json"}
    expected |= {f"pareto_trial_{r['trial']}.json" for r in data["pareto"]}
    assert set(data["configs"]) == expected
    for file in expected:
        config = json.loads((out / file).read_text(encoding="utf-8"))
        trial = study.trials[config["trial"]]
        args = finetune.build_parser().parse_args(["--config", str(out / file), "--out", "x"])
        hp, model = finetune.resolve_hparams(args)
        assert hp == HParams(**trial.params)
        assert model == "tiny"
        assert config["values"] == dict(zip(OBJECTIVES, trial.values, strict=True))
    best_f1 = json.loads((out / "best_f1.json").read_text(encoding="utf-8"))
    assert best_f1["trial"] == data["best"]["micro_f1"]["trial"]


def test_html_plots_and_report_files(synthetic):
    out, data = synthetic["out"], synthetic["json"]
    stems = {
        "history_f1",
        "history_auprc",
        "importances_f1",
        "importances_auprc",
        "pareto_front",
        "intermediate_values",
        "learning_curves",
    }
    assert set(data["plots"]) == {f"plots/{s}.html" for s in stems}
    for stem in stems:
        html = (out / "plots" / f"{stem}.html").read_text(encoding="utf-8")
        assert "plotly.min.js" in html and "<script" in html
        assert f"plots/{stem}.html" in synthetic["md"]
    assert (out / "plots" / "plotly.min.js").stat().st_size > 1_000_000
    assert not list(out.glob("plots/*.png"))
    assert data["png_skipped"] == "--no-png given"
    assert {
        "study",
        "objectives",
        "counts",
        "pareto",
        "best",
        "baseline",
        "importances",
        "hypotheses",
        "plots",
        "configs",
        "storage",
    } <= set(data)


def test_learning_curves_show_both_objectives_per_trial(synthetic):
    study = synthetic["study"]
    fig = plots.learning_curves(study.trials, OBJECTIVES)
    with_evals = [t for t in study.trials if evals_of(t)]
    assert len(fig.data) == 2 * len(with_evals)
    pruned = [d for d in fig.data if d.name == f"trial {study.trials[-1].number}"]
    assert [list(d.y) for d in pruned] == [[12.0], [11.0]]
    assert all(d.line.dash == "dot" for d in pruned)


def test_hypothesis_sections(synthetic):
    checked, free = synthetic["json"]["hypotheses"]
    assert checked["checked"] and checked["verdict"] == "supported"
    assert checked["objective"] == "micro_f1"
    assert (
        checked["importance"]
        == synthetic["json"]["importances"]["micro_f1"]["importances"]["focal_gamma"]
    )
    assert checked["with_condition"]["n"] + checked["without_condition"]["n"] == 16
    assert free == {
        "text": "longer training is better",
        "from_trial": 0,
        "checked": False,
        "verdict": "not checkable",
        "reason": "free text: cannot be checked automatically; see the importances",
    }
    md = synthetic["md"]
    assert '### "focal_gamma > 1 improves f1" (from trial 0)' in md
    assert "**supported**" in md
    assert "- most important for micro_f1: focal_gamma" in md


def test_small_study_says_why_instead_of_crashing(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = new_study(url, "small", hypotheses=["focal_gamma > 1 improves f1"])
    add_trial(
        study,
        RECIPE,
        state=TrialState.PRUNED,
        origin="KLUE paper recipe",
        evals={"10": [20.0, 18.0], "20": [25.0, 22.0]},
    )
    add_trial(study, {**RECIPE, "focal_gamma": 2.0}, [40.0, 35.0])
    out = tmp_path / "out"
    assert report.main(["--storage", url, "--study", "small", "--out", str(out), "--no-png"]) == 0
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for name in OBJECTIVES:
        assert data["importances"][name] == {
            "note": "needs at least 2 complete trials, the study has 1"
        }
    assert data["baseline"]["last_evaluation"] == {"step": 20, "micro_f1": 25.0, "auprc": 22.0}
    assert data["hypotheses"][0]["verdict"] == "inconclusive"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "no final values; last evaluation at step 20: micro_f1 25.00, auprc 22.00" in md
    assert "Not available: needs at least 2 complete trials" in md


def test_params_that_never_vary_get_a_note(tmp_path):
    study = optuna.create_study(directions=["maximize", "maximize"])
    for f1 in (40.0, 50.0):
        add_trial(study, RECIPE, [f1, 30.0])
    note = report_data.param_importances(study, 0, study.trials)
    assert note == {"note": "no searched parameter varies among the complete trials"}


def test_single_objective_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = new_study(url, "one", objectives=["micro_f1"])
    rng = random.Random(1)
    for gamma in (0.0, 1.0, 2.0, 3.0):
        params = {**RECIPE, "focal_gamma": gamma}
        add_trial(study, params, synthetic_values(params, rng)[:1])
    out = tmp_path / "out"
    assert report.main(["--storage", url, "--study", "one", "--out", str(out), "--no-png"]) == 0
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(data["configs"]) == {"best_f1.json", "pareto_trial_3.json"}
    assert "plots/pareto_front.html" not in data["plots"]
    assert "## Best trial\n" in (out / "report.md").read_text(encoding="utf-8")


def test_png_skipped_in_one_line_without_a_browser(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = new_study(url, "png")
    add_trial(study, RECIPE, [40.0, 35.0])
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    out = tmp_path / "out"
    assert report.main(["--storage", url, "--study", "png", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if "PNG plots skipped" in line]
    assert len(skipped) == 1 and "no-such-chrome" in skipped[0]
    assert "Traceback" not in err
    assert not list(out.glob("plots/*.png")) and list(out.glob("plots/*.html"))


@pytest.mark.integration
@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")),
    reason="needs a Chrome or Chromium for kaleido (apt-get install chromium)",
)
def test_png_written_with_a_browser(tmp_path):
    fig = plots.importance_bars({"focal_gamma": 0.7, "max_len": 0.3}, "micro_f1")
    written, skipped = plots.write_png({"importances_f1": fig}, tmp_path)
    assert skipped is None
    assert written == [tmp_path / "importances_f1.png"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_of_a_mocked_search(tmp_path, monkeypatch, capsys):
    """The attributes search.run really writes are what the report reads."""
    from search import run

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", url, "--study", "m", "--quiet", "--seed", "3"]
    hypothesis = "focal_gamma > 1 improves f1"
    assert run.main([*argv, "--trials", "5", "--hypothesis", hypothesis]) == 0
    capsys.readouterr()
    assert report.main(["--storage", url, "--study", "m", "--no-png"]) == 0
    out = Path("reports") / "m"
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["baseline"]["trial"] == 0
    assert data["hypotheses"][0]["text"] == hypothesis and data["hypotheses"][0]["checked"]
    config = json.loads((out / "best_auprc.json").read_text(encoding="utf-8"))
    trial = optuna.load_study(study_name="m", storage=url).trials[config["trial"]]
    assert config["hparams"] == trial_hparams(trial)
    assert (out / "plots" / "learning_curves.html").exists()
    assert "# Search report: m" in capsys.readouterr().out


def test_one_section_per_hypothesis_with_the_trials_on_each_side(tmp_path, monkeypatch, capsys):
    """A typical hypothesis, "focal gamma above 1 beats cross-entropy", among several hypotheses
    given at once to a mocked search, and what the report says about each."""
    from search import run

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    hypotheses = [
        "focal_gamma > 1 improves f1",
        "lr >= 3e-4 hurts auprc",
        "aug_aeda > 0 improves f1",  # fixed at 0 in the shipped space: nothing on one side
        "augmentation is worth its time",
    ]
    argv = ["--runner", RUNNER, "--storage", url, "--study", "h", "--quiet", "--seed", "5"]
    argv += ["--workers", "1", "--trials", "24"]
    assert run.main([*argv, *(f for h in hypotheses for f in ("--hypothesis", h))]) == 0
    capsys.readouterr()
    assert report.main(["--storage", url, "--study", "h", "--no-png"]) == 0
    data = json.loads((Path("reports") / "h" / "report.json").read_text(encoding="utf-8"))
    md = (Path("reports") / "h" / "report.md").read_text(encoding="utf-8")
    assert [v["text"] for v in data["hypotheses"]] == hypotheses
    study = optuna.load_study(study_name="h", storage=url)
    by_number = {t.number: t for t in study.trials}
    gamma, lr, aeda, free = data["hypotheses"]
    checks = (
        (gamma, "focal_gamma", 0, lambda value: value > 1),
        (lr, "learning_rate", 1, lambda value: value >= 3e-4),
    )
    for h, param, index, condition in checks:
        assert h["checked"] and h["param"] == param
        sides = {True: h["with_condition"], False: h["without_condition"]}
        for holds, side in sides.items():
            assert side["n"] == len(side["trials"]) == len(side["values"])
            for number, value in zip(side["trials"], side["values"], strict=True):
                trial = by_number[number]
                assert trial.state == TrialState.COMPLETE and trial.values[index] == value
                assert condition(trial_hparams(trial)[param]) == holds
            assert side["pruned"] == len(side["pruned_trials"])
            for number in side["pruned_trials"]:
                assert by_number[number].state == TrialState.PRUNED
                assert condition(trial_hparams(by_number[number])[param]) == holds
        complete = sum(t.state == TrialState.COMPLETE for t in study.trials)
        pruned = sum(t.state == TrialState.PRUNED for t in study.trials)
        assert sides[True]["n"] + sides[False]["n"] == complete
        assert sides[True]["pruned"] + sides[False]["pruned"] == pruned
        objective = "micro_f1" if index == 0 else "auprc"
        ranking = data["importances"][objective].get("importances") or {}
        assert h["importance"] == ranking.get(param)
        if h["p_value"] is not None and h["p_value"] < 0.1:
            assert h["verdict"] in ("supported", "contradicted")
        else:
            assert h["verdict"] == "inconclusive"
        section = md.split(f'### "{h["text"]}"')[1].split("###")[0]
        first = sides[True]["trials"][0]
        assert f"{first} ({sides[True]['values'][0]:.2f})" in section
        assert "Mann-Whitney" in section and f"importance of {param}" in section
    assert pruned > 0  # so the pruned counts above were exercised
    assert aeda["verdict"] == "inconclusive" and aeda["with_condition"]["n"] == 0
    assert "0 with the condition" in aeda["reason"]
    assert free["checked"] is False and free["verdict"] == "not checkable"
    assert md.count('\n### "') == len(hypotheses)


def test_importances_state_their_method_and_reach_the_dashboard(synthetic):
    from optuna_dashboard._custom_plot_data import get_plotly_graph_objects

    assert "Method: fANOVA" in synthetic["md"] and "PED-ANOVA" in synthetic["md"]
    study = synthetic["study"]
    saved = get_plotly_graph_objects(study._storage.get_study_system_attrs(study._study_id))
    for graph_id in ("fanova-importances-f1", "fanova-importances-auprc"):
        assert "focal_gamma" in saved[graph_id] and "PED-ANOVA" in saved[graph_id]

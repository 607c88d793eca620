"""search.run end to end with the fake trial (real Optuna, real SQLite, real processes)."""

import io
import json
import sqlite3

import optuna
import pytest
from optuna.trial import TrialState

from common._cli import UserError
from search._attrs import study_attrs, trial_record, trial_run
from search._progress import Progress
from search.analysis._curves import learning_curves_figure
from search.pruning._evaluations import evals_of
from search.run import main
from search.testing import ENV, RUNNER


def run(tmp_path, *flags, study="s"):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", study, "--quiet"]
    argv += ["--workers", "1"]
    return main([*argv, *flags]), storage


def load(storage, name="s"):
    return optuna.load_study(study_name=name, storage=storage)


def test_search_records_trials_baseline_metrics_and_hypotheses(tmp_path, capsys):
    code, storage = run(tmp_path, "--trials", "16", "--seed", "1", "--hypothesis", "gamma helps")
    assert code == 0
    study = load(storage)
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 16
    assert study.trials[0].user_attrs["origin"] == "KLUE paper recipe"
    assert study.trials[0].params["learning_rate"] == 1e-4  # the recipe's 5e-5, clipped
    assert any(t.state == TrialState.PRUNED for t in study.trials)
    assert study.metric_names == ["micro_f1", "auprc"]
    attrs = study_attrs(study)
    assert attrs["hypothesis"] == "gamma helps"
    assert {"data", "model", "space", "code_version", "packages"} <= set(attrs)
    complete = next(t for t in study.trials if t.state == TrialState.COMPLETE)
    evals = evals_of(complete)
    assert evals and all(len(v) == 2 for v in evals.values())
    costs = trial_record(complete, "eval_costs")  # per evaluation: seconds and examples so far
    assert sorted(costs, key=int) == [str(step) for step in evals]
    assert all(examples > 0 for _, examples in costs.values())
    assert complete.intermediate_values  # the dashboard's learning curve
    for name in ("hparams", "runtime", "dev_predictions_artifact"):
        assert trial_record(complete, name), name
    assert set(complete.user_attrs) <= {"model", "worker", "origin"}  # short, for stock tables
    record = trial_run(complete)
    assert record["status"] == "complete" and record["steps"] == record["total_steps"] > 0
    assert {"timings_s", "memory", "metrics", "best_step", "examples"} <= set(record)
    pruned = next(t for t in study.trials if t.state == TrialState.PRUNED)
    assert pruned.user_attrs["pruned_reason"].startswith("rung ")  # where and against whom
    assert "dominated by trial" in pruned.user_attrs["pruned_reason"]
    assert trial_record(pruned, "pruned_at")["of"] >= 3
    figure = learning_curves_figure(study)
    assert {trace["xaxis"] for trace in figure.data} == {"x", "x2"}  # one panel per objective
    system = study._storage.get_study_system_attrs(study._study_id)
    assert any(key.startswith("dashboard:plot_data:learning-curves") for key in system)
    out = capsys.readouterr().out
    assert "Pareto front" in out and "optuna-dashboard sqlite:///" in out
    assert "python -m search.dashboard --storage sqlite:///" in out
    assert "python -m search.report" in out


def test_rerunning_the_same_study_adds_trials(tmp_path):
    run(tmp_path, "--trials", "5")
    run(tmp_path, "--trials", "4")
    study = load_study_finished = load(f"sqlite:///{tmp_path / 'study.db'}")
    finished = [t for t in load_study_finished.trials if t.state != TrialState.FAIL]
    assert len(finished) == 9
    assert sum(t.user_attrs.get("origin") == "KLUE paper recipe" for t in study.trials) == 1


@pytest.mark.parametrize("objectives", ["f1", "auprc"])
def test_single_objective_uses_optunas_pruners(tmp_path, objectives):
    flags = ["--trials", "12", "--objectives", objectives, "--pruner", "median"]
    code, storage = run(tmp_path, *flags)
    assert code == 0
    study = load(storage)
    assert len(study.directions) == 1
    assert any(t.state == TrialState.PRUNED for t in study.trials)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--trials", "0"], "--trials"),
        (["--sampler", "bayes"], "--sampler"),
        (["--pruner", "asha"], "--pruner"),
        (["--objectives", "f1,accuracy"], "--objectives"),
        (["--storage", "mongodb://localhost/x"], "--storage"),
        (["--pruner", "median"], "--pruner median works with one objective"),
        (["--evals-per-run", "0"], "--evals-per-run"),
        (["--min-trials", "0"], "--min-trials"),
        (["--runner", "nope"], "--runner"),
        (["--runner", "tests.fakes.nowhere:run"], "--runner"),
        (["--runner", "search.testing:nothing"], "--runner"),
        (["--hypothesis", "focal_gama > 1 improves f1"], "focal_gama"),
    ],
)
def test_bad_flags_write_nothing(tmp_path, flags, named):
    with pytest.raises(UserError, match=named.replace("-", r"\-")):
        run(tmp_path, *flags)
    db = tmp_path / "study.db"
    if db.exists():
        assert sqlite3.connect(db).execute("select count(*) from studies").fetchone() == (0,)


def test_existing_study_with_other_objectives_is_refused_untouched(tmp_path):
    run(tmp_path, "--trials", "3")
    with pytest.raises(UserError, match="exists with objectives micro_f1, auprc"):
        run(tmp_path, "--trials", "3", "--objectives", "f1")
    study = load(f"sqlite:///{tmp_path / 'study.db'}")
    assert len(study.trials) == 3


def test_bad_space_writes_nothing(tmp_path):
    space = tmp_path / "bad.toml"
    space.write_text("[learning_rate]\nlow = 0\nhigh = 1\nlog = true\n")
    with pytest.raises(UserError, match="log range"):
        run(tmp_path, "--trials", "3", "--space", str(space))
    assert not (tmp_path / "study.db").exists()


def test_two_worker_processes_share_the_study(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, json.dumps({"seconds_per_eval": 0.05}))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    code = main(
        ["--runner", RUNNER, "--storage", storage, "--study", "w",
         "--trials", "10", "--workers", "2", "--quiet"]
    )  # fmt: skip
    assert code == 0
    study = load(storage, "w")
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 10 and len(study.trials) == 10
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]


def test_worker_processes_log_beside_the_artifacts_or_to_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--trials", "2", "--workers", "2", "--quiet"]
    assert main([*argv, "--study", "a"]) == 0
    assert {p.name for p in (tmp_path / "logs" / "a").iterdir()} == {"worker-0.log", "worker-1.log"}
    assert main([*argv, "--study", "b", "--worker-logs", "-"]) == 0
    assert not (tmp_path / "logs" / "b").exists()


def test_constant_predictions_fail_the_trial():
    import numpy as np

    from search._trial import constant_predictions

    assert constant_predictions(np.tile([1.0, 2.0, 3.0], (5, 1)))
    rng = np.random.default_rng(0)
    assert not constant_predictions(rng.normal(size=(5, 3)))
    assert not constant_predictions(None)


def test_create_only_makes_the_study_once_and_runs_nothing(tmp_path):
    code, storage = run(tmp_path, "--create-only")
    assert code == 0
    run(tmp_path, "--create-only")
    study = load(storage)
    assert len(study.trials) == 1 and study.trials[0].state == TrialState.WAITING
    assert study.trials[0].user_attrs["origin"] == "KLUE paper recipe"


def test_several_hypotheses_are_recorded_once_each_with_the_trial_they_start_from(tmp_path):
    first = ["focal_gamma > 1 improves f1", "gamma helps"]
    code, storage = run(tmp_path, "--trials", "3", *(f for h in first for f in ("--hypothesis", h)))
    assert code == 0
    attrs = study_attrs(load(storage))
    assert attrs["hypotheses"] == [{"text": h, "from_trial": 0} for h in first]
    assert attrs["hypothesis"] == "gamma helps"  # the single attribute 0.1.0 studies hold
    run(
        tmp_path,
        "--trials",
        "2",
        "--hypothesis",
        "gamma helps",
        "--hypothesis",
        "lr < 1e-3 hurts f1",
    )
    study = load(storage)
    texts = [(h["text"], h["from_trial"]) for h in study_attrs(study)["hypotheses"]]
    assert texts == [(first[0], 0), (first[1], 0), ("lr < 1e-3 hurts f1", 3)]
    assert study_attrs(study)["hypothesis"] == "lr < 1e-3 hurts f1"


def test_one_bad_hypothesis_among_several_writes_nothing(tmp_path):
    flags = ["--hypothesis", "focal_gamma > 1 improves f1", "--hypothesis", "gamma > x helps f1"]
    with pytest.raises(UserError, match="focal_gamma is a number, got 'x'"):
        run(tmp_path, "--trials", "2", *flags)
    assert not (tmp_path / "study.db").exists()
    with pytest.raises(UserError, match="--hypothesis: empty"):
        run(tmp_path, "--trials", "2", "--hypothesis", " ")
    assert not (tmp_path / "study.db").exists()


def test_the_config_keeps_its_hypotheses_and_devices_through_json():
    from search._config import DataFiles, Deployment, SearchConfig, SearchPlan

    config = SearchConfig(
        SearchPlan(trials=1, model="tiny", hypotheses=("a", "b")),
        DataFiles(train="t", dev="d"),
        Deployment(storage="sqlite://", study="s", devices=("0", "1"), workers=2),
    )
    assert SearchConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_a_study_with_only_the_old_single_hypothesis_keeps_it(tmp_path):
    _, storage = run(tmp_path, "--create-only")
    study = load(storage)
    study.set_user_attr("hypothesis", "old words")
    study._storage.set_study_user_attr(study._study_id, "hypotheses", [])
    run(tmp_path, "--create-only", "--hypothesis", "gamma > 1 helps f1")
    attrs = study_attrs(load(storage))
    assert [h["text"] for h in attrs["hypotheses"]] == ["old words", "gamma > 1 helps f1"]
    assert attrs["hypothesis"] == "gamma > 1 helps f1"


class _Log(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_progress_in_a_log_file_is_one_line_per_change_and_ticks_on_a_terminal():
    log = _Log(terminal=False)
    progress = Progress(40, quiet=False, file=log)
    drawn = log.getvalue().count("trials:")
    for _ in range(30):  # the launcher polls every second; nothing happens for 30 s
        progress.show(0, "")
    progress.show(1, "best 0.0 8.8")
    for _ in range(30):
        progress.show(1, "best 0.0 8.8")
    progress.show(2, "best 14.5 6.2")
    progress.close()
    lines = log.getvalue().count("trials:") - drawn
    assert lines <= 4  # the first drawing, two changes and the closing one
    assert "2/40" in log.getvalue() and "best 14.5 6.2" in log.getvalue()

    terminal = _Log(terminal=True)
    progress = Progress(40, quiet=False, file=terminal)
    before = terminal.getvalue().count("trials:")
    for _ in range(5):
        progress.tick()
    assert terminal.getvalue().count("trials:") - before == 5  # the clock moves
    progress.close()


def test_trials_1_with_several_workers_runs_the_recipe_once_in_one_worker(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "one"]
    assert main([*argv, "--trials", "1", "--workers", "3", "--quiet"]) == 0
    (trial,) = load(storage, "one").trials
    assert trial.user_attrs["origin"] == "KLUE paper recipe"


def test_a_model_that_cannot_be_loaded_is_refused_before_anything_is_written(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    no_weights = tmp_path / "model"
    no_weights.mkdir()
    (no_weights / "config.json").write_text("{}")
    for model, words in [("klue/no-such-model", "not found on the hub"), (no_weights, "weights")]:
        with pytest.raises(UserError, match=words):
            main(["--storage", storage, "--model", str(model), "--trials", "1", "--quiet"])
    assert not (tmp_path / "study.db").exists()


def test_storage_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_DB", f"sqlite:///{tmp_path / 'env.db'}")
    flags = ["--runner", RUNNER, "--study", "env", "--storage-env", "SEARCH_DB"]
    assert main([*flags, "--trials", "1", "--quiet"]) == 0
    assert (tmp_path / "env.db").exists()
    with pytest.raises(UserError, match="--storage-env UNSET_VAR: the variable is not set"):
        main(["--storage-env", "UNSET_VAR", "--trials", "1"])


def test_an_interrupted_recipe_is_enqueued_again_until_it_finishes(tmp_path):
    _, storage = run(tmp_path, "--create-only")
    study = load(storage)
    recipe = study.ask()  # takes the waiting recipe, as a worker does
    study._storage.set_trial_user_attr(recipe._trial_id, "fail_reason", "interrupted by SIGINT")
    study.tell(recipe, state=TrialState.FAIL)
    assert run(tmp_path, "--trials", "2")[0] == 0
    trials = load(storage).trials
    recipes = [t for t in trials if t.user_attrs.get("origin") == "KLUE paper recipe"]
    assert recipes[0].state == TrialState.FAIL and len(recipes) == 2
    assert recipes[1].state in (TrialState.COMPLETE, TrialState.PRUNED)
    fixed = [t.system_attrs["fixed_params"] for t in recipes]
    assert fixed[0] == fixed[1]


def test_a_recipe_that_failed_for_its_own_reason_is_not_retried():
    from search._study import recipe_needed

    def trial(state, reason=None):
        attrs = {"origin": "KLUE paper recipe"}
        if reason:
            attrs["fail_reason"] = reason
        return optuna.trial.create_trial(state=state, user_attrs=attrs, values=None)

    assert recipe_needed([])
    assert recipe_needed([trial(TrialState.FAIL, "worker died: no heartbeat for 60 s")])
    assert recipe_needed([trial(TrialState.FAIL, "storage: the disk is full or read-only: x")])
    assert not recipe_needed([trial(TrialState.FAIL, "TrialDiverged: non-finite loss")])
    retried = [trial(TrialState.FAIL, "interrupted by SIGINT"), trial(TrialState.WAITING)]
    assert not recipe_needed(retried)


def test_names_from_a_shared_storage_stay_inside_their_directory():
    from common._files import safe_name

    for hostile in ["/tmp/x", "../../../x", "..", ".", "", "a/../../b", "x\\..\\y"]:
        name = safe_name(hostile)
        assert "/" not in name and "\\" not in name and not name.startswith(".") and name
    assert safe_name("tiny-train-d75e2403") == "tiny-train-d75e2403"
    assert safe_name("/tmp/x") != safe_name("_tmp_x")


def test_a_worker_in_the_launchers_process_reads_nothing_again(tmp_path, monkeypatch):
    """The launcher has opened the storage and read the space and the data: a worker running in
    its process takes them as they are instead of opening and reading them a second time."""
    from search import _worker_inputs as worker_inputs

    def reload(config):
        raise AssertionError("the in-process worker loaded its inputs again")

    monkeypatch.setattr(
        worker_inputs.Inputs, "load", classmethod(lambda cls, config: reload(config))
    )
    code, storage = run(tmp_path, "--trials", "3")
    assert code == 0
    assert len(load(storage).trials) == 3

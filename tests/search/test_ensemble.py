"""Ensembles of trials: soft voting and greedy selection (pure), and python -m search.ensemble on
fake and real tiny-model studies, including every bad input it must refuse."""

import json
import shutil

import numpy as np
import optuna
import pytest
from optuna.artifacts import FileSystemArtifactStore, download_artifact
from optuna.trial import TrialState

from common._cli import UserError, run_main
from objectives._metrics import soft_vote
from objectives.data._dataset import read_dataset
from objectives.data._labels import LabelSet
from objectives.data._predictions import read_predictions
from objectives.data._sample_data import ensure_sample_data, generate, write_sample
from search._attrs import run_metrics, study_attrs, trial_record
from search.analysis._voting import greedy_select, pareto_order, score
from search.ensemble import main
from search.run import main as run_search
from search.testing import RUNNER

LABELS = LabelSet(("no_relation", "a", "b"))


def probs_for(gold, right, p_gold, p_wrong):
    """Rows putting ``p_gold`` on the gold class where ``right`` holds, else ``p_wrong`` on the
    other relation; the rest of the mass on no_relation."""
    rows = []
    for g, ok in zip(gold, right, strict=True):
        other = 2 if g == 1 else 1
        row = np.zeros(3)
        if ok:
            row[g], row[other] = p_gold, (1 - p_gold) / 2
        else:
            row[other], row[g] = p_wrong, (1 - p_wrong) / 2
        row[0] = 1 - row.sum()
        rows.append(row)
    return np.array(rows)


GOLD = np.array([1, 2, 1, 2, 1, 2, 1, 2, 1, 2])
FIRST7 = [i < 7 for i in range(10)]
GOOD = probs_for(GOLD, FIRST7, 0.7, 0.55)  # right on 7 of 10
COMPLEMENT = probs_for(GOLD, [not r for r in FIRST7], 0.9, 0.6)  # right on the other 3
HARMFUL = probs_for(GOLD, [False] * 10, 0.0, 0.95)  # confidently wrong everywhere


def test_soft_vote_is_the_mean_of_the_members():
    rng = np.random.default_rng(0)
    members = [rng.dirichlet(np.ones(3), size=5) for _ in range(4)]
    np.testing.assert_allclose(soft_vote(members), sum(members) / 4)
    np.testing.assert_allclose(soft_vote(members).sum(axis=1), 1.0)


def test_greedy_selection_adds_the_complementary_member_and_leaves_out_the_harmful_one():
    assert score(GOOD, GOLD, LABELS, "micro_f1") == pytest.approx(70.0)
    assert score(COMPLEMENT, GOLD, LABELS, "micro_f1") == pytest.approx(30.0)
    selection = greedy_select([HARMFUL, COMPLEMENT, GOOD], GOLD, LABELS)
    assert selection.chosen == (2, 1)  # starts from the best single member, adds its complement
    assert selection.path == pytest.approx((70.0, 100.0))
    assert set(selection.left_out) == {0}
    assert selection.left_out[0].startswith("did not improve dev micro-F1 when added")
    assert "100.00 without" in selection.left_out[0]


def test_greedy_selection_stops_at_once_when_no_member_helps():
    selection = greedy_select([GOOD, HARMFUL], GOLD, LABELS)
    assert selection.chosen == (0,)
    assert "(" in selection.left_out[1] and "70.00 without" in selection.left_out[1]
    by_auprc = greedy_select([HARMFUL, GOOD], GOLD, LABELS, metric="auprc")
    assert by_auprc.chosen == (1,)
    assert "AUPRC" in by_auprc.left_out[0]


def test_pareto_order_ranks_fronts_then_breaks_ties_by_f1():
    values = [(48.0, 30.0), (45.0, 45.0), (50.0, 40.0), (39.0, 44.0)]
    f1 = [v[0] for v in values]
    # front: 2 and 1 (by F1); then 0 (dominated by 2; a better F1 than 1 does not lift it), 3
    assert pareto_order(values, f1) == [2, 1, 0, 3]


# --- the CLI on a mocked study -------------------------------------------------------------------


@pytest.fixture(scope="module")
def mocked(tmp_path_factory):
    """A fake search of 10 trials on the sample data with --test, and one of 3 without."""
    root = tmp_path_factory.mktemp("ensemble")
    data = ensure_sample_data()
    storage = f"sqlite:///{root / 'study.db'}"
    common = ["--runner", RUNNER, "--storage", storage, "--workers", "1", "--quiet", "--seed", "0"]
    common += ["--pruner", "none"]  # every trial complete
    assert (
        run_search([*common, "--study", "s", "--trials", "10", "--test", str(data / "test.json")])
        == 0
    )
    assert run_search([*common, "--study", "notest", "--trials", "3"]) == 0
    return {"root": root, "storage": storage, "data": data}


def ensemble_argv(mocked, out, *flags, study="s"):
    return ["--storage", mocked["storage"], "--study", study, "--out", str(out), *flags]


def stored(mocked, artifact_id, tmp_path):
    store = FileSystemArtifactStore(str(mocked["root"] / "study-artifacts"))
    path = tmp_path / f"{artifact_id}.csv"
    download_artifact(artifact_store=store, artifact_id=artifact_id, file_path=str(path))
    return read_predictions(path, LabelSet(tuple(_labels(mocked)["names"])))


def _labels(mocked):
    study = optuna.load_study(study_name="s", storage=mocked["storage"])
    return study_attrs(study)["data"]["labels"]


def test_trials_store_test_probabilities_and_the_study_its_fingerprint(mocked, tmp_path):
    study = optuna.load_study(study_name="s", storage=mocked["storage"])
    test = read_dataset(mocked["data"] / "test.json", None, with_labels=False)
    assert study_attrs(study)["data"]["test_fingerprint"] == test.fingerprint
    assert study_attrs(study)["data"]["test"] == str(mocked["data"] / "test.json")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    preds = stored(mocked, trial_record(complete[0], "test_predictions_artifact"), tmp_path)
    assert preds.ids == tuple(ex.id for ex in test.examples)
    np.testing.assert_allclose(preds.probs.sum(axis=1), 1.0)


def test_ensemble_reports_members_votes_and_writes_submissions(mocked, tmp_path, capsys):
    out = tmp_path / "out"
    test_file = mocked["data"] / "test.json"
    assert main(ensemble_argv(mocked, out, "--top", "6", "--test", str(test_file))) == 0
    report = json.loads((out / "report.json").read_text())
    study = optuna.load_study(study_name="s", storage=mocked["storage"])
    numbers = [m["trial"] for m in report["members"]]
    assert len(numbers) == 6
    front = {t.number for t in study.best_trials}
    assert set(numbers[: len(front)]) == front  # the Pareto front comes first
    best_f1 = max(m["micro_f1"] for m in report["members"])
    greedy = report["greedy"]
    assert greedy["micro_f1"] >= best_f1
    assert greedy["beats_best_member"]["micro_f1"] == (greedy["micro_f1"] > best_f1)
    assert greedy["trials"][0] == max(report["members"], key=lambda m: m["micro_f1"])["trial"]
    left = {r["trial"] for r in report["left_out"]}
    assert left == set(numbers) - set(greedy["trials"])
    assert all("did not improve dev micro-F1" in r["reason"] for r in report["left_out"])
    assert report["soft_vote"]["trials"] == numbers
    # the submission is the mean of the chosen members' STORED test probabilities
    chosen = [study.trials[n] for n in greedy["trials"]]
    expected = np.mean(
        [
            stored(mocked, trial_record(t, "test_predictions_artifact"), tmp_path).probs
            for t in chosen
        ],
        axis=0,
    )
    submission = read_predictions(out / "submission.csv", LabelSet(tuple(_labels(mocked)["names"])))
    np.testing.assert_allclose(submission.probs, expected, rtol=0, atol=1e-15)
    assert (submission.pred_ids == expected.argmax(axis=1)).all()
    assert submission.ids == tuple(
        ex.id for ex in read_dataset(test_file, None, with_labels=False).examples
    )
    assert (out / "submission_top6.csv").is_file()
    text = (out / "report.txt").read_text()
    assert "greedy" in text and "top-6 soft vote" in text and "beats the best member" in text
    assert text.strip() in capsys.readouterr().out


def test_ranking_by_one_objective(mocked, tmp_path):
    out = tmp_path / "out"
    assert main(ensemble_argv(mocked, out, "--top", "3", "--by", "auprc", "--metric", "auprc")) == 0
    report = json.loads((out / "report.json").read_text())
    study = optuna.load_study(study_name="s", storage=mocked["storage"])
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    by_auprc = sorted(complete, key=lambda t: -t.values[1])[:3]
    assert [m["trial"] for m in report["members"]] == [t.number for t in by_auprc]
    assert report["metric"] == "auprc"


def test_ranking_by_a_metric_that_is_not_an_objective_reads_the_runs_metrics(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "a", "--workers", "1", "--quiet"]
    argv += ["--seed", "2", "--pruner", "none", "--objectives", "auprc", "--trials", "8"]
    assert run_search(argv) == 0
    out = tmp_path / "out"
    argv = ["--storage", storage, "--study", "a", "--out", str(out), "--top", "3", "--by", "f1"]
    assert main(argv) == 0
    study = optuna.load_study(study_name="a", storage=storage)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    by_f1 = sorted(complete, key=lambda t: -run_metrics(t)["micro_f1"])[:3]
    assert [t.number for t in by_f1] != [t.number for t in complete[:3]]  # order matters here
    members = json.loads((out / "report.json").read_text())["members"]
    assert [m["trial"] for m in members] == [t.number for t in by_f1]


def test_a_study_without_test_predictions_ensembles_dev_only(mocked, tmp_path):
    out = tmp_path / "out"
    assert main(ensemble_argv(mocked, out, "--top", "1", study="notest")) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["test"] is None and report["greedy"]["submission"] is None
    assert not list(out.glob("submission*"))


def test_bad_input_is_one_line_exit_2_and_writes_nothing(mocked, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, ensemble_argv(mocked, out, "--top", "2", study="nope"))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--study nope: no such study" in err
    assert not out.exists()


def _relabelled_dev(mocked, tmp_path):
    records = json.loads((mocked["data"] / "dev.json").read_text())
    labels = _labels(mocked)["names"]
    records[0]["label"] = next(n for n in labels if n != records[0]["label"])
    path = tmp_path / "dev-changed.json"
    path.write_text(json.dumps(records, ensure_ascii=False))
    return path


@pytest.mark.parametrize(
    ("flags", "study", "message"),
    [
        (["--top", "0"], "s", "--top: must be at least 1"),
        (["--top", "99"], "s", "--top 99: only"),
        (["--top", "2", "--test", "{data}/test.json"], "notest", "no stored test probabilities"),
        (["--top", "2", "--test", "{data}/dev.json"], "s", "dev.json: row 1 has id 'sample-v1-dev"),
        (["--top", "2", "--dev", "{data}/train.json"], "s", "train.json: row 1 has id"),
        (["--top", "2", "--dev", "{changed}"], "s", "is not the study's dev data"),
        (["--top", "2", "--artifacts", "{tmp}/none"], "s", "--artifacts"),
    ],
)
def test_bad_input_is_refused_before_writing(mocked, tmp_path, flags, study, message):
    out = tmp_path / "out"
    changed = _relabelled_dev(mocked, tmp_path) if "{changed}" in flags else None
    flags = [f.format(data=mocked["data"], changed=changed, tmp=tmp_path) for f in flags]
    with pytest.raises(UserError, match=message.replace("-", r"\-").replace(".", r"\.")):
        main(ensemble_argv(mocked, out, *flags, study=study))
    assert not out.exists()


def test_a_study_without_stored_probabilities_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path / 'bare.db'}"
    study = optuna.create_study(storage=storage, study_name="bare", directions=["maximize"] * 2)
    study.add_trial(optuna.trial.create_trial(values=[50.0, 40.0]))
    out = tmp_path / "out"
    argv = ["--storage", storage, "--study", "bare", "--top", "1", "--out", str(out)]
    (tmp_path / "bare-artifacts").mkdir()
    with pytest.raises(UserError, match="no trial has stored probabilities"):
        main(argv)
    assert not out.exists()


def test_rerunning_a_study_with_another_test_file_is_refused(mocked):
    data = mocked["data"]
    argv = ["--runner", RUNNER, "--storage", mocked["storage"], "--study", "s", "--quiet"]
    with pytest.raises(UserError, match="stores test predictions of another file"):
        run_search([*argv, "--trials", "1", "--workers", "1", "--test", str(data / "dev.json")])


def test_a_study_created_without_test_records_the_first_test_file(tmp_path):
    data = ensure_sample_data()
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "t", "--quiet", "--workers", "1"]
    run_search([*argv, "--trials", "1"])
    first = study_attrs(optuna.load_study(study_name="t", storage=storage))["data"]
    assert "test_fingerprint" not in first
    run_search([*argv, "--trials", "1", "--test", str(data / "test.json")])
    recorded = study_attrs(optuna.load_study(study_name="t", storage=storage))["data"]
    test = read_dataset(data / "test.json", None, with_labels=False)
    assert recorded["test_fingerprint"] == test.fingerprint
    assert recorded["dev_fingerprint"] and recorded["labels"]  # the rest kept


# --- end to end on the real tiny model -----------------------------------------------------------

SPACE = """
[learning_rate]
low = 1e-3
high = 3e-3
log = true

[num_train_epochs]
value = 1

[per_device_train_batch_size]
value = 16

[max_len]
value = 64
"""


@pytest.mark.slow
def test_tiny_model_search_then_ensemble_end_to_end(tmp_path, capsys):
    data = tmp_path / "data"
    write_sample(data, generate(seed=5, sizes={"train": 64, "dev": 32, "test": 16}))
    (tmp_path / "space.toml").write_text(SPACE)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    code = run_search(
        ["--trials", "2", "--storage", storage, "--study", "tiny", "--model", "tiny",
         "--train", str(data / "train.csv"), "--dev", str(data / "dev.json"),
         "--test", str(data / "test.csv"), "--space", str(tmp_path / "space.toml"),
         "--pruner", "none", "--evals-per-epoch", "1", "--workers", "1", "--seed", "0",
         "--quiet"]
    )  # fmt: skip
    assert code == 0
    moved = tmp_path / "moved-dev.json"  # the study's dev file moved: --dev finds it
    shutil.move(data / "dev.json", moved)
    out = tmp_path / "out"
    argv = ["--storage", storage, "--study", "tiny", "--top", "2", "--out", str(out)]
    assert main([*argv, "--dev", str(moved), "--test", str(data / "test.csv")]) == 0
    report = json.loads((out / "report.json").read_text())
    study = optuna.load_study(study_name="tiny", storage=storage)
    for member in report["members"]:  # stored probabilities reproduce the trial's own values
        values = study.trials[member["trial"]].values
        assert member["micro_f1"] == pytest.approx(values[0], abs=1e-3)
        assert member["auprc"] == pytest.approx(values[1], abs=1e-3)
    lines = (out / "submission.csv").read_text().splitlines()
    assert lines[0] == "id,pred_label,probs" and len(lines) == 17

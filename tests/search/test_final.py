"""search.final: a study's trial retrained on K folds for real (tiny model), and its bad input."""

import csv
import json
import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

import search.final as final
from common._cli import UserError, run_main
from objectives._hparams import HParams
from objectives.data._dataset import Example
from objectives.data._labels import KLUE_RELATIONS
from objectives.data._writing import write_klue_json
from objectives.score import main as score_main
from objectives.training._kfold import FoldFailed
from search._retrain import choose_trial
from search.final import main
from search.run import main as run_search
from search.testing import RUNNER
from tests.toy import toy_data

# every trial of the mocked search gets this configuration: the tiny model learns the toy task
# from 80 examples within 30 steps (with cls pooling it often has not started to by then)
SPACE = """
[pooling]
value = "entity_start"
[learning_rate]
value = 3e-3
[num_train_epochs]
value = 3
[per_device_train_batch_size]
value = 8
[max_len]
value = 32
[warmup_ratio]
value = 0.0
"""


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A mocked two-trial search on toy data files; its study records the files and label set."""
    root = tmp_path_factory.mktemp("final")
    data = toy_data(train=160, dev=40, seed=1)
    write_klue_json(root / "train.json", list(data.train.examples))
    write_klue_json(root / "dev.json", list(data.dev.examples))
    test = [_unlabeled(ex, f"t{i}") for i, ex in enumerate(toy_data(0, 30, seed=2).dev.examples)]
    write_klue_json(root / "test.json", test)
    (root / "space.toml").write_text(SPACE)
    storage = f"sqlite:///{root / 'study.db'}"
    code = run_search(
        [
            "--runner", RUNNER, "--storage", storage, "--study", "s", "--trials", "2",
            "--workers", "1", "--quiet", "--train", str(root / "train.json"),
            "--dev", str(root / "dev.json"), "--space", str(root / "space.toml"),
        ]
    )  # fmt: skip
    assert code == 0
    return root, storage


def _unlabeled(ex: Example, new_id: str) -> Example:
    return Example(new_id, ex.sentence, ex.subject, ex.object, None)


def args(root, storage, *flags, out="out"):
    base = ["--storage", storage, "--study", "s", "--test", str(root / "test.json")]
    return [*base, "--out", str(root / out), "--quiet", "--cache-dir", str(root / "cache"), *flags]


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_k_fold_retraining_writes_a_soft_voted_submission(searched, capsys):
    root, storage = searched
    code = main(args(root, storage, "--best", "f1", "--folds", "2", "--evals-per-epoch", "1"))
    assert code == 0
    out = root / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["folds"] == 2 and report["model"] == "tiny"
    assert report["hparams"]["learning_rate"] == 3e-3  # the trial's configuration
    assert report["data"]["train"] == str(root / "train.json")  # the study's files by default
    oof, floor = report["out_of_fold"], report["floor"]
    assert all(np.isfinite(v) for v in oof.values())
    assert oof["micro_f1"] > floor["micro_f1"] + 10 and oof["auprc"] > floor["auprc"]
    assert [f["held_out_rows"] for f in report["per_fold"]] == [80, 80]
    assert report["dev"]["soft_vote"]["auprc"] > 0

    submission = read_csv(out / "submission.csv")
    assert [row["id"] for row in submission] == [f"t{i}" for i in range(30)]
    probs = np.array([json.loads(row["probs"]) for row in submission])
    assert probs.shape == (30, 30)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    # probs in label order: pred_label names the most probable position
    assert [row["pred_label"] for row in submission] == [
        KLUE_RELATIONS[i] for i in probs.argmax(axis=1)
    ]
    # the submission is the mean of the two fold models' test probabilities
    folds = [
        np.array([json.loads(r["probs"]) for r in read_csv(out / f"test_probs_fold{k}of2.csv")])
        for k in (1, 2)
    ]
    np.testing.assert_allclose(probs, (folds[0] + folds[1]) / 2, atol=1e-9)

    oof_rows = read_csv(out / "oof_predictions.csv")
    assert [row["id"] for row in oof_rows] == [f"toy-{i}" for i in range(160)]
    fold_rows = read_csv(out / "folds.csv")
    assert sorted({row["fold"] for row in fold_rows}) == ["1", "2"]
    assert "out-of-fold (160 examples)" in capsys.readouterr().out
    # the out-of-fold file rescores to the report's figures
    score_main(["--gold", str(root / "train.json"), "--pred", str(out / "oof_predictions.csv")])
    scored = json.loads(capsys.readouterr().out)
    assert scored["micro_f1"] == pytest.approx(oof["micro_f1"], abs=1e-3)
    assert scored["auprc"] == pytest.approx(oof["auprc"], abs=1e-3)
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_a_failed_fold_writes_nothing(searched, monkeypatch, capsys):
    root, storage = searched

    def failing(*a, **kw):
        raise FoldFailed("fold 2 of 2: non-finite training loss at step 3")

    monkeypatch.setattr(final, "run_kfold", failing)
    assert main(args(root, storage, "--trial", "0", "--folds", "2", out="failed")) == 1
    assert not (root / "failed").exists()
    assert "fold 2 of 2: non-finite" in capsys.readouterr().err


def _error(root, storage, *flags, capsys):
    with pytest.raises(SystemExit) as caught:
        run_main(main, args(root, storage, *flags, out="bad"))
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert not (root / "bad").exists()
    return err


def test_bad_input_is_one_line_and_exit_2_before_training(searched, capsys, tmp_path):
    root, storage = searched
    err = _error(root, storage, "--trial", "9", capsys=capsys)
    assert "--trial 9: no such trial in study s (0..1)" in err
    err = _error(root, storage, "--best", "f1", "--folds", "1", capsys=capsys)
    assert "--folds: must be at least 2, got 1" in err
    err = _error(root, storage, "--best", "f1", "--folds", "81", capsys=capsys)
    assert "--folds 81: class" in err and "train.json" in err
    missing = str(tmp_path / "nope.json")
    err = _error(root, storage, "--best", "f1", "--test", missing, capsys=capsys)
    assert f"{missing}: data file not found" in err
    dup = tmp_path / "dup.json"
    write_klue_json(dup, [_unlabeled(toy_data(0, 2).dev.examples[i], "same") for i in (0, 1)])
    err = _error(root, storage, "--best", "f1", "--test", str(dup), capsys=capsys)
    assert "id 'same' repeats row 1" in err
    err = _error(root, storage, "--best", "f1", "--study", "other", capsys=capsys)
    assert "--study other: no such study in this storage; studies there: s" in err
    (root / "a-file").write_text("not a directory")
    with pytest.raises(UserError, match=r"--out .*a-file: exists and is not a directory"):
        main(args(root, storage, "--best", "f1", out="a-file"))


def test_a_rare_class_names_itself_its_count_and_the_file(searched, capsys, tmp_path):
    root, storage = searched
    examples = list(toy_data(train=40, dev=0, seed=3).train.examples)
    rare = examples[0]
    examples += [Example(f"rare{i}", rare.sentence, rare.subject, rare.object, "per:title")
                 for i in range(2)]  # fmt: skip
    train = tmp_path / "rare.json"
    write_klue_json(train, examples)
    err = _error(root, storage, "--best", "f1", "--train", str(train), capsys=capsys)
    assert f"--folds 5: class 'per:title' has only 2 example(s) in {train}" in err


HP = HParams().to_dict()
DIST = {"learning_rate": FloatDistribution(1e-5, 1e-2, log=True)}


def _study(directions=("maximize", "maximize"), names=("micro_f1", "auprc")):
    study = optuna.create_study(study_name="mem", directions=list(directions))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(names))
    return study


def _add(study, state, values=None, **attrs):
    study.add_trial(
        create_trial(
            state=state,
            values=values,
            params={"learning_rate": 1e-4},
            distributions=DIST,
            user_attrs={"hparams": HP, **attrs},
        )
    )


def test_choose_trial_by_number_or_best_objective():
    study = _study()
    _add(study, TrialState.COMPLETE, [60.0, 40.0])
    _add(study, TrialState.COMPLETE, [55.0, 45.0])
    _add(study, TrialState.PRUNED, pruned_reason="stopped by the search at step 8")
    assert choose_trial(study, None, "f1").number == 0
    assert choose_trial(study, None, "auprc").number == 1
    assert choose_trial(study, 1, None).number == 1
    expected = r"--trial 2: is PRUNED \(stopped by the search at step 8\), not COMPLETE.*--best f1"
    with pytest.raises(UserError, match=expected):
        choose_trial(study, 2, None)


def test_trials_that_cannot_be_retrained_are_refused():
    study = _study()
    _add(study, TrialState.FAIL, fail_reason="RuntimeError: CUDA out of memory")
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=[50.0, 50.0]))
    with pytest.raises(UserError, match=r"--trial 0: is FAIL \(RuntimeError: CUDA out of memory\)"):
        choose_trial(study, 0, None)
    with pytest.raises(UserError, match=r"--trial 1: records no hyperparameters.*--best"):
        choose_trial(study, 1, None)
    with pytest.raises(UserError, match="--best f1: study mem has no complete trial yet"):
        choose_trial(study, None, "f1")
    single = _study(directions=("maximize",), names=("micro_f1",))
    with pytest.raises(UserError, match="--best auprc: study mem optimizes micro_f1, not auprc"):
        choose_trial(single, None, "auprc")

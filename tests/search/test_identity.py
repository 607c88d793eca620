"""An existing study refuses trials trained on other data, labels or model unless asked to; a
changed search space is recorded and reported, not refused; ties in the report are broken by
the other objective."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from common._cli import UserError
from search._retrain import best_trial
from search._space import default_space_path
from search.analysis import _report_data as report_data
from search.analysis import _report_markdown as report_markdown
from search.run import main
from search.testing import RUNNER
from tests.toy import write_toy_files

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def run(tmp_path, data, *flags):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "s", "--quiet"]
    argv += ["--workers", "1", "--trials", "1", "--train", str(data[0]), "--dev", str(data[1])]
    return main([*argv, *flags]), storage


def trials(storage):
    return len(optuna.load_study(study_name="s", storage=storage).trials)


@pytest.fixture
def first(tmp_path):
    data = write_toy_files(tmp_path / "a")
    code, storage = run(tmp_path, data)
    assert code == 0
    return data, storage


def test_other_dev_data_is_refused_naming_it(tmp_path, first):
    _, storage = first
    other = write_toy_files(tmp_path / "b", seed=1)
    before = trials(storage)
    with pytest.raises(UserError) as info:
        run(tmp_path, (first[0][0], other[1]))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("--study s: was searched with other dev data (fingerprint ")
    assert str(other[1]) in message and "--add-anyway" in message
    assert "train data" not in message
    assert trials(storage) == before  # nothing written


def test_other_labels_and_no_relation_are_refused(tmp_path, first):
    data, _ = first
    names = tmp_path / "labels.txt"
    names.write_text("per:employee_of\nno_relation\n", encoding="utf-8")
    with pytest.raises(UserError, match="other label list \\(30 labels, now 2; without "):
        run(tmp_path, data, "--labels", str(names))


def test_add_anyway_records_what_differs_and_the_report_says_so(tmp_path, first, capsys):
    _, storage = first
    other = write_toy_files(tmp_path / "b", seed=1)
    before = trials(storage)
    code, _ = run(tmp_path, other, "--add-anyway")
    assert code == 0
    err = capsys.readouterr().err
    assert f"From trial {before} on, trials were added with other train data" in err
    built = report_data.build_report(optuna.load_study(study_name="s", storage=storage))
    rendered = report_markdown.render_markdown({**built, "plots": [], "configs": {}})
    assert f"From trial {before} on, trials were added with other train data" in rendered


def test_a_changed_space_is_reported_not_refused(tmp_path, first, capsys):
    data, storage = first
    space = tmp_path / "space.toml"
    text = default_space_path("tiny").read_text(encoding="utf-8")
    space.write_text(text.replace("high = 5e-3", "high = 1e-3", 1), encoding="utf-8")
    before = trials(storage)
    assert run(tmp_path, data)[0] == 0  # the same space again: nothing to say
    assert "search space" not in capsys.readouterr().err
    assert run(tmp_path, data, "--space", str(space))[0] == 0
    assert f"From trial {before + 1} on, the search space is {space}" in capsys.readouterr().err


def _tied_study():
    study = optuna.create_study(directions=["maximize", "maximize"])
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for x, values in ((0.1, [80.0, 40.0]), (0.2, [80.0, 50.0]), (0.3, [70.0, 60.0])):
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE,
                values=values,
                params={"x": x},
                distributions=dist,
                user_attrs={"hparams": {}},
            )
        )
    return study


def test_a_tie_on_f1_is_broken_by_auprc():
    study = _tied_study()
    names = ["micro_f1", "auprc"]
    best = report_data.best_per_objective(study.trials, names, study.directions)
    assert best["micro_f1"].number == 1  # trial 0 ties on F1 and is dominated on AUPRC
    assert best["auprc"].number == 2
    study.set_metric_names(names)
    assert best_trial(study, study.trials, "micro_f1", "f1").number == 1


def test_another_model_and_no_relation_name_are_named():
    from types import SimpleNamespace

    from search._identity import differences

    recorded = {
        "model": "klue/roberta-large",
        "data": {"labels": {"names": ["no_relation", "per:title"], "no_relation": "no_relation"}},
    }
    data = SimpleNamespace(
        train=SimpleNamespace(fingerprint="t"),
        dev=SimpleNamespace(fingerprint="d"),
        labels=SimpleNamespace(names=("관계없음", "per:title"), no_relation="관계없음"),
    )
    config = SimpleNamespace(
        plan=SimpleNamespace(model="tiny"), files=SimpleNamespace(train="train.csv", dev="dev.csv")
    )
    assert differences(recorded, config, data) == [
        "label list (2 labels, now 2; without no_relation; with 관계없음)",
        "no-relation label ('no_relation', now '관계없음')",
        "model (klue/roberta-large, now tiny)",
    ]


def test_a_search_on_data_without_its_no_relation_label_writes_no_study(tmp_path):
    from tests.objectives.data.exports import KOREAN_DEV, KOREAN_TRAIN, records, write_jsonl

    train = write_jsonl(tmp_path / "train.jsonl", records(KOREAN_TRAIN))
    dev = write_jsonl(tmp_path / "dev.jsonl", records(KOREAN_DEV, "d"))
    with pytest.raises(UserError, match="--no-relation 관계없음"):
        run(tmp_path, (train, dev))
    assert not (tmp_path / "study.db").exists()
    assert run(tmp_path, (train, dev), "--no-relation", "관계없음")[0] == 0

"""What the report says about how far its numbers go: importances from few trials, parameters
that never varied, labels dev lacks (which cap AUPRC), and a legend for every trial."""

from __future__ import annotations

import random

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from search._attrs import study_attrs
from search.analysis import _report_data as report_data
from search.analysis import _report_markdown as report_markdown
from search.analysis._plots import learning_curves
from search.run import main as run_search
from search.testing import RUNNER
from tests.search.test_report import DISTRIBUTIONS, add_trial
from tests.toy import write_toy_files

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def _study(n: int):
    study = optuna.create_study(directions=["maximize", "maximize"])
    rng = random.Random(0)
    for _ in range(n):
        lr = 10 ** rng.uniform(-5, -3)
        params = {"learning_rate": lr, "focal_gamma": rng.uniform(0, 3), "max_len": 128}
        add_trial(study, params, [1000 * lr + rng.random(), rng.random() * 50])
    return study


def test_few_trials_get_a_caution_and_fixed_parameters_no_row():
    few = report_data.param_importances(_study(6), 0, _study(6).trials)
    assert "max_len" not in few["importances"]  # searched over 3 choices, never varied
    assert set(few["importances"]) == {"learning_rate", "focal_gamma"}
    assert "rest on 6 complete trials" in few["caveat"]
    text = report_markdown._importance_text(few)
    assert text.startswith("_Caution: these rest on 6 complete trials")
    many = _study(12)
    assert "caveat" not in report_data.param_importances(many, 0, many.trials)


def test_labels_absent_from_dev_are_recorded_and_cap_auprc_in_the_report(tmp_path):
    train, dev = write_toy_files(tmp_path)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    argv = ["--runner", RUNNER, "--storage", storage, "--study", "s"]
    argv += ["--trials", "1", "--workers", "1", "--quiet", "--train", str(train)]
    assert run_search([*argv, "--dev", str(dev)]) == 0
    study = optuna.load_study(study_name="s", storage=storage)
    absent = study_attrs(study)["data"]["dev_absent_labels"]
    assert len(absent) == 28 and "per:employee_of" not in absent  # toy dev uses 2 of 30
    header = "\n".join(report_markdown._header(report_data.build_report(study)))
    assert "Dev has no example of 28 of the 30 labels (org:dissolved," in header
    assert "so AUPRC is at most 53.3." in header


def test_the_learning_curve_legend_fits_every_trial():
    trials = [
        create_trial(
            state=TrialState.COMPLETE,
            values=[1.0, 2.0],
            params={"focal_gamma": 0.5},
            distributions={"focal_gamma": DISTRIBUTIONS["focal_gamma"]},
            user_attrs={"evals": {"10": [1.0, 2.0], "20": [2.0, 3.0]}},
        )
        for _ in range(30)
    ]
    fig = learning_curves(trials, ["micro_f1", "auprc"])
    assert sum(trace.showlegend for trace in fig.data) == 30
    assert fig.layout.legend.tracegroupgap == 0  # plotly's default gap: 10 px per trial
    assert fig.layout.height >= 20 * 30 + 200

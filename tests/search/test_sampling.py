import optuna
import pytest

from search._sampling import SAMPLERS, _FirstDirection, klue_recipe, make_sampler, suggest
from search._space import load_space


def test_recipe_for_base_and_large_models():
    space = load_space()
    base = klue_recipe("klue/roberta-base", space)
    large = klue_recipe("klue/roberta-large", space)
    assert base["learning_rate"] == 5e-5 and base["per_device_train_batch_size"] == 32
    assert large["learning_rate"] == 2e-5 and large["num_train_epochs"] == 10
    assert large["warmup_ratio"] == 0.2 and large["max_len"] == 256
    assert base["markers"] == "entity" and base["pooling"] == "cls"


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_suggests_inside_the_space_on_two_objectives(name):
    space = load_space()
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=make_sampler(name, 0))
    for i in range(12):
        trial = study.ask()
        params = suggest(trial, space)
        lr = space.params["learning_rate"]
        assert lr.low <= params["learning_rate"] <= lr.high
        assert params["max_len"] in space.params["max_len"].choices
        if i % 3 == 2:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, [params["learning_rate"] * 1e3, params["warmup_ratio"]])
    assert len(study.trials) == 12


def test_tpe_survives_pruned_trials_with_learning_curves_on_two_objectives():
    """Optuna's TPE reads pruned trials' last intermediate value through study.direction, which
    a two-objective study refuses; MO-ASHA gives pruned trials curves, so this must work."""
    space = load_space()
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=make_sampler("tpe", 1))
    for i in range(20):
        trial = study.ask()
        suggest(trial, space)
        study._storage.set_trial_intermediate_value(trial._trial_id, 1, float(i))
        if i % 2:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, [float(i), float(-i)])
    assert sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials) == 0


def test_recipe_is_clipped_into_the_space(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[learning_rate]\nlow = 1e-4\nhigh = 1e-3\nlog = true\n[max_len]\nchoices = [64]\n"
    )
    recipe = klue_recipe("klue/roberta-base", load_space(path))
    assert recipe == {"learning_rate": 1e-4, "max_len": 64}


def test_recipe_trains_without_augmentation_where_the_space_searches_it(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        "[aug_aeda]\nlow = 0.0\nhigh = 0.5\n[aug_entity_swap]\nchoices = [0.3, 0.0]\n"
        "[aug_marker_dropout]\nvalue = 0.2\n",
        encoding="utf-8",
    )
    recipe = klue_recipe("klue/roberta-base", load_space(path))
    assert recipe == {"aug_aeda": 0.0, "aug_entity_swap": 0.0}  # a fixed value stays the space's


MODELS_SPACE = """
[model]
choices = ["tiny", "tiny+tapt", "klue/roberta-large"]

[learning_rate]
low = 1e-4
high = 5e-3
log = true

[learning_rate.by_model]
"klue/roberta-large" = { low = 5e-6, high = 3e-5 }

[warmup_ratio]
low = 0.0
high = 0.3

[max_len]
choices = [64, 128]
"""


@pytest.mark.parametrize("name", ["tpe", "nsga2"])
def test_learning_rate_comes_from_the_suggested_models_range(tmp_path, name):
    """One parameter name, two ranges: Optuna accepts it in one study (TPE falls back to
    sampling it on its own), and every value lies in its own model's range."""
    path = tmp_path / "s.toml"
    path.write_text(MODELS_SPACE)
    space = load_space(path)
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=make_sampler(name, 0))
    study.enqueue_trial(klue_recipe("tiny", space))
    seen = set()
    for i in range(30):
        trial = study.ask()
        params = suggest(trial, space)
        assert next(iter(params)) == "model"
        lr = space.param_for("learning_rate", params["model"])
        assert lr.low <= params["learning_rate"] <= lr.high
        assert trial.distributions["learning_rate"].high == lr.high
        seen.add(params["model"])
        if i % 4 == 3:
            study._storage.set_trial_intermediate_value(trial._trial_id, 1, float(i))
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            large = params["model"] == "klue/roberta-large"
            study.tell(trial, [params["learning_rate"] * (1e5 if large else 1e3), float(i)])
    assert seen == set(space.models())
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]


def test_recipe_with_models_as_a_choice_takes_the_first_and_clips_into_its_range(tmp_path):
    path = tmp_path / "s.toml"
    listed = '["tiny", "tiny+tapt", "klue/roberta-large"]'
    path.write_text(MODELS_SPACE.replace(listed, '["klue/roberta-large", "tiny"]'))
    space = load_space(path)
    recipe = klue_recipe("tiny-but-not-listed", space)
    assert recipe["model"] == "klue/roberta-large"
    assert recipe["learning_rate"] == 2e-5  # the large recipe, inside the large model's range
    assert recipe["max_len"] == 64  # 256 is not a choice: the first one
    assert klue_recipe("tiny", space)["learning_rate"] == 1e-4  # 5e-5 clipped into tiny's range


def test_tpe_ranks_pruned_trials_by_the_rung_they_reached_not_by_raw_step():
    """A run of many small steps stopped at its first evaluation (step 40) must not outrank one
    of few large steps stopped at its third (step 9): TPE reads their curves by evaluation."""
    study = optuna.create_study(directions=["maximize", "maximize"], sampler=make_sampler("tpe", 0))
    early = study.ask()
    study._storage.set_trial_intermediate_value(early._trial_id, 40, 30.0)
    study.tell(early, state=optuna.trial.TrialState.PRUNED)
    deeper = study.ask()
    for step, f1 in ((3, 1.0), (6, 2.0), (9, 3.0)):
        study._storage.set_trial_intermediate_value(deeper._trial_id, step, f1)
    study.tell(deeper, state=optuna.trial.TrialState.PRUNED)
    from optuna.samplers._tpe.sampler import _get_pruned_trial_score

    wrapped = _FirstDirection(study)
    seen = wrapped._get_trials(deepcopy=False)
    assert [t.intermediate_values for t in seen] == [{1: 30.0}, {1: 1.0, 2: 2.0, 3: 3.0}]
    assert study.trials[0].intermediate_values == {40: 30.0}  # the study itself is untouched
    ranked = sorted(seen, key=lambda t: _get_pruned_trial_score(t, wrapped))  # TPE's own order
    assert ranked[0].number == deeper.number

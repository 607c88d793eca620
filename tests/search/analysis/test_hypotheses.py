"""Hypotheses in words: the grammar, its errors, and verdicts on synthetic trials."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from common._cli import UserError
from objectives._hparams import HParams
from search.analysis._hypotheses import check_hypothesis, parse_hypothesis
from search.analysis._verdicts import CONTRADICTED, INCONCLUSIVE, SUPPORTED, evaluate

OBJECTIVES = ("micro_f1", "auprc")
DISTRIBUTIONS = {
    "focal_gamma": FloatDistribution(0.0, 3.0),
    "markers": CategoricalDistribution(["typed_punct", "entity"]),
}


def trial(
    number: int,
    f1: float | None,
    gamma: float,
    markers: str = "typed_punct",
    state: TrialState = TrialState.COMPLETE,
    with_hparams: bool = True,
) -> FrozenTrial:
    params = {"focal_gamma": gamma, "markers": markers}
    attrs = {"hparams": HParams(**params).to_dict()} if with_hparams else {}
    values = None if state != TrialState.COMPLETE else [f1, 50.0]
    made = create_trial(
        state=state, values=values, params=params, distributions=DISTRIBUTIONS, user_attrs=attrs
    )
    made.number = number
    return made


def split_trials(high: list[float], low: list[float]) -> list[FrozenTrial]:
    """Trials with focal_gamma 2 scoring ``high`` and trials with focal_gamma 0 scoring ``low``."""
    with_gamma = [trial(i, f1, 2.0) for i, f1 in enumerate(high)]
    return with_gamma + [trial(len(high) + i, f1, 0.0) for i, f1 in enumerate(low)]


@pytest.mark.parametrize(
    ("text", "param", "op", "value", "sign", "objective"),
    [
        ("focal_gamma > 1 improves micro_f1", "focal_gamma", ">", 1.0, 1, "micro_f1"),
        ("max_len == 256 hurts auprc", "max_len", "==", 256.0, -1, "auprc"),
        ("markers == typed_punct improves micro_f1", "markers", "==", "typed_punct", 1, "micro_f1"),
        ("pooling != cls improves f1", "pooling", "!=", "cls", 1, "micro_f1"),
        ("lr>=1e-4 helps F1.", "learning_rate", ">=", 1e-4, 1, "micro_f1"),
        ("warmup_ratio <= 0.05 Hurts auprc", "warmup_ratio", "<=", 0.05, -1, "auprc"),
        ("batch_size < 32 improves f1", "per_device_train_batch_size", "<", 32.0, 1, "micro_f1"),
        ("max_len = '128' helps auprc", "max_len", "==", 128.0, 1, "auprc"),
        (
            'model == "klue/roberta-large" helps f1',
            "model",
            "==",
            "klue/roberta-large",
            1,
            "micro_f1",
        ),
    ],
)
def test_parse_reads_the_grammar(text, param, op, value, sign, objective):
    h = parse_hypothesis(text)
    assert h is not None
    assert (h.param, h.op, h.value, h.sign, h.objective) == (param, op, value, sign, objective)


@pytest.mark.parametrize(
    "text",
    [
        "gamma helps",
        "focal loss makes rare relations easier",
        "focal_gamma > 1 makes micro_f1 better",
        "focal_gamma > 1 improves",
        "",
    ],
)
def test_free_text_is_not_checkable(text):
    assert parse_hypothesis(text) is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("dropout > 0.1 improves f1", "'dropout'"),
        ("focal_gamma > 1 improves accuracy", "'accuracy'"),
        ("markers > 1 improves f1", "use == or !="),
        ("markers == fancy improves f1", "'fancy'"),
        ("pooling == mean hurts auprc", "'mean'"),
        ("focal_gamma > high improves f1", "'high'"),
    ],
)
def test_parsable_hypothesis_with_unknown_names_is_a_user_error(text, named):
    with pytest.raises(UserError, match=named) as caught:
        parse_hypothesis(text)
    assert "\n" not in str(caught.value)


def test_check_hypothesis_needs_an_objective_of_the_study():
    assert check_hypothesis("gamma > 1 helps f1", ["micro_f1"]).param == "focal_gamma"
    assert check_hypothesis("whatever we find", ["micro_f1"]) is None
    with pytest.raises(UserError, match="auprc is not an objective"):
        check_hypothesis("gamma > 1 helps auprc", ["micro_f1"])


def test_clearly_true_hypothesis_is_supported_with_the_trials_listed():
    trials = split_trials([60, 62, 61, 63, 59], [40, 41, 39, 42])
    verdict = evaluate(parse_hypothesis("focal_gamma > 1 improves f1"), trials, OBJECTIVES, {})
    assert verdict.verdict == SUPPORTED
    assert verdict.p_value is not None and verdict.p_value < 0.1
    assert verdict.with_condition.trials == (0, 1, 2, 3, 4)
    assert verdict.without_condition.trials == (5, 6, 7, 8)
    assert verdict.difference == pytest.approx(61 - 40.5)
    summary = verdict.to_json()["with_condition"]
    assert (summary["n"], summary["median"], summary["best"]) == (5, 61, 63)


def test_clearly_false_hypothesis_is_contradicted():
    trials = split_trials([60, 62, 61, 63, 59], [40, 41, 39, 42])
    verdict = evaluate(parse_hypothesis("focal_gamma > 1 hurts f1"), trials, OBJECTIVES)
    assert verdict.verdict == CONTRADICTED
    assert "higher" in verdict.reason


def test_too_few_trials_per_side_is_inconclusive():
    trials = split_trials([60, 62, 61, 63], [40, 41])
    verdict = evaluate(parse_hypothesis("focal_gamma > 1 improves f1"), trials, OBJECTIVES)
    assert verdict.verdict == INCONCLUSIVE
    assert verdict.p_value is None
    assert "2 without" in verdict.reason


def test_no_difference_is_inconclusive_with_a_p_value():
    trials = split_trials([50, 52, 54, 56], [51, 53, 55, 57])
    verdict = evaluate(parse_hypothesis("focal_gamma > 1 improves f1"), trials, OBJECTIVES)
    assert verdict.verdict == INCONCLUSIVE
    assert verdict.p_value >= 0.1


def test_identical_values_do_not_break_the_test():
    trials = split_trials([50.0] * 4, [50.0] * 4)
    verdict = evaluate(parse_hypothesis("focal_gamma > 1 improves f1"), trials, OBJECTIVES)
    assert verdict.verdict == INCONCLUSIVE
    assert verdict.p_value == 1.0


def test_pruned_trials_are_counted_apart_and_params_are_the_fallback():
    trials = [
        *split_trials([60, 62, 61], [40, 41, 39]),
        trial(6, None, 2.5, state=TrialState.PRUNED),
        trial(7, None, 2.5, state=TrialState.FAIL),
        trial(8, 63.0, 2.5, with_hparams=False),
    ]
    verdict = evaluate(
        parse_hypothesis("gamma > 1 improves f1"), trials, OBJECTIVES, {"focal_gamma": 0.7}
    )
    assert verdict.with_condition.trials == (0, 1, 2, 8)
    assert verdict.with_condition.pruned == 1
    assert verdict.importance == 0.7


def test_choice_parameters_split_by_string():
    trials = [trial(i, 60 + i, 0.0, "entity") for i in range(4)]
    trials += [trial(4 + i, 40 + i, 0.0, "typed_punct") for i in range(4)]
    verdict = evaluate(parse_hypothesis("markers == entity helps f1"), trials, OBJECTIVES)
    assert verdict.with_condition.trials == (0, 1, 2, 3)
    assert verdict.verdict == SUPPORTED


def test_evaluate_rejects_an_objective_outside_the_study():
    with pytest.raises(UserError, match="auprc"):
        evaluate(parse_hypothesis("gamma > 1 helps auprc"), [], ("micro_f1",))


@settings(max_examples=40, deadline=None)
@given(
    high=st.lists(st.floats(0, 100), min_size=0, max_size=6),
    low=st.lists(st.floats(0, 100), min_size=0, max_size=6),
)
def test_flipping_the_verb_flips_the_verdict(high, low):
    trials = split_trials(high, low)
    improves = parse_hypothesis("focal_gamma > 1 improves f1")
    hurts = dataclasses.replace(improves, sign=-1)
    a = evaluate(improves, trials, OBJECTIVES)
    b = evaluate(hurts, trials, OBJECTIVES)
    flipped = {SUPPORTED: CONTRADICTED, CONTRADICTED: SUPPORTED, INCONCLUSIVE: INCONCLUSIVE}
    assert b.verdict == flipped[a.verdict]
    assert a.p_value == b.p_value
    assert a.with_condition.n + a.without_condition.n == len(high) + len(low)

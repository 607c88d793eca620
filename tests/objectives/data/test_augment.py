"""Training-data augmentation: offsets stay exact, dev and test are never touched, runs complete."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common._cli import UserError
from objectives import finetune
from objectives._hparams import AUGMENTATIONS, HParams, RunSettings
from objectives.data._augment import (
    PUNCTUATION,
    aeda,
    augment_train,
    entity_swap,
    mention_pool,
    replace_mentions,
    word_starts,
)
from objectives.data._dataset import Dataset, Entity, Example, read_dataset
from objectives.data._sample_data import ensure_sample_data
from objectives.encoding._features import encode
from objectives.encoding._markers import check_entities, mark_example
from objectives.training._loop import Workspace, fine_tune
from search._space import load_space
from tests.toy import toy_data

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FAST = dict(learning_rate=2e-3, num_train_epochs=1, per_device_train_batch_size=16, max_len=32)
DATA = toy_data(train=48, dev=16, test=True)  # one corpus: the tiny model is built once


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="module")
def sample_train() -> Dataset:
    return read_dataset(ensure_sample_data() / "train.json")


def assert_on_words(example: Example) -> None:
    for entity in (example.subject, example.object):
        assert example.sentence[entity.start : entity.end + 1] == entity.word
    check_entities(example.sentence, example.subject, example.object)


def example(sentence: str, subject: str, obj: str, types=("PER", "ORG")) -> Example:
    s, o = sentence.index(subject), sentence.index(obj)
    return Example(
        "x",
        sentence,
        Entity(subject, s, s + len(subject) - 1, types[0]),
        Entity(obj, o, o + len(obj) - 1, types[1]),
        "per:employee_of",
    )


# --- entity swap --------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS)
def test_entity_swap_keeps_offsets_types_and_labels_over_the_sample_train_set(sample_train, seed):
    pool = mention_pool(sample_train.examples)
    train_mentions = {
        (e.type, e.word) for ex in sample_train.examples for e in (ex.subject, ex.object)
    }
    rng = random.Random(seed)
    swapped = 0
    for ex in sample_train.examples:
        new = entity_swap(ex, pool, rng)
        if new is None:
            continue
        swapped += 1
        assert_on_words(new)
        assert new.label == ex.label and new.id == f"{ex.id}:swap"
        changed = 0
        for old, now in ((ex.subject, new.subject), (ex.object, new.object)):
            assert now.type == old.type
            assert (now.type, now.word) in train_mentions
            changed += now.word != old.word
        assert changed >= 1
    assert swapped > 0.9 * len(sample_train)


def test_swap_moves_the_entity_after_the_replaced_one():
    ex = example("김철수는 카카오에서 일한다.", "김철수", "카카오")
    new = replace_mentions(ex, {"subject": "남궁 민수"})
    assert new.sentence == "남궁 민수는 카카오에서 일한다."
    assert (new.subject.start, new.subject.end) == (0, 4)
    assert (new.object.start, new.object.end) == (7, 9)
    both = replace_mentions(ex, {"subject": "이", "object": "현대자동차"})
    assert both.sentence == "이는 현대자동차에서 일한다."
    assert_on_words(both)


def test_nested_entities_or_a_pool_without_other_mentions_are_not_swapped():
    nested = example("서울대학교 병원은 크다.", "서울대학교 병원", "서울대학교", ("ORG", "ORG"))
    pool = {"ORG": ("서울대학교", "서울대학교 병원", "카카오")}
    assert entity_swap(nested, pool, random.Random(0)) is None
    alone = example("김철수는 카카오에서 일한다.", "김철수", "카카오")
    assert entity_swap(alone, {"PER": ("김철수",), "ORG": ("카카오",)}, random.Random(0)) is None
    only_object = entity_swap(
        alone, {"PER": ("김철수",), "ORG": ("카카오", "네이버")}, random.Random(0)
    )
    assert only_object.subject == alone.subject and only_object.object.word == "네이버"


# --- AEDA ---------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(seed=SEEDS)
def test_aeda_keeps_offsets_and_never_puts_punctuation_inside_an_entity(sample_train, seed):
    rng = random.Random(seed)
    for ex in sample_train.examples:
        new = aeda(ex, rng)
        assert_on_words(new)
        assert new.label == ex.label and new.id == f"{ex.id}:aeda"
        marks, origin = align(ex.sentence, new.sentence)
        assert 1 <= len(marks) <= max(1, len(ex.sentence.split()) // 3)
        for old, now in ((ex.subject, new.subject), (ex.object, new.object)):
            assert origin[now.start] == old.start and origin[now.end] == old.end
            assert not any(now.start <= q <= now.end for q in marks)


def align(original: str, augmented: str) -> tuple[list[int], dict[int, int]]:
    """Where ``augmented`` has an inserted mark (a ``PUNCTUATION`` entry before a word of
    ``original``), and which original character every other character is."""
    marks, origin, i, q = [], {}, 0, 0
    while q < len(augmented):
        if i < len(original) and augmented[q] == original[i]:
            origin[q] = i
            i, q = i + 1, q + 1
            continue
        mark = augmented[q : q + 2]
        assert mark in PUNCTUATION, (original, augmented, q)
        assert i == 0 or original[i - 1].isspace()  # at a word boundary
        marks.append(q)
        q += 2
    assert i == len(original)
    return marks, origin


def test_aeda_leaves_a_multi_word_entity_whole():
    ex = example("조지 해리슨은 비틀즈 멤버였다 그리고 더 많은 일을 했다", "조지 해리슨", "비틀즈")
    assert word_starts(ex.sentence)[:2] == [0, 3]
    for seed in range(50):
        new = aeda(ex, random.Random(seed))
        marks, _ = align(ex.sentence, new.sentence)
        assert new.sentence[new.subject.start : new.subject.end + 1] == "조지 해리슨"
        assert marks


# --- marker dropout and the whole training set --------------------------------------------------


def test_augment_train_is_deterministic_for_a_seed_and_adds_copies(sample_train):
    kwargs = dict(entity_swap_p=0.5, aeda_p=0.3, marker_dropout_p=0.2)
    a = augment_train(sample_train, **kwargs, seed=7)
    b = augment_train(sample_train, **kwargs, seed=7)
    c = augment_train(sample_train, **kwargs, seed=8)
    assert a == b
    assert a.dataset.fingerprint != c.dataset.fingerprint
    assert a.dataset.examples[: len(sample_train)] == sample_train.examples  # all kept
    n = len(sample_train)
    assert len(a.dataset) == n + a.added["entity_swap"] + a.added["aeda"]
    assert 0.4 * n < a.added["entity_swap"] < 0.6 * n and 0.2 * n < a.added["aeda"] < 0.4 * n
    assert 0.15 < sum(a.unmarked) / len(a.dataset) < 0.25
    # one augmentation's draws do not depend on whether another is on
    swap_only = augment_train(sample_train, entity_swap_p=0.5, seed=7)
    assert swap_only.dataset.examples == a.dataset.examples[: len(swap_only.dataset)]


def test_nothing_on_changes_nothing(sample_train):
    off = augment_train(sample_train, seed=3)
    assert off.dataset is sample_train and not any(off.unmarked)


def test_marker_dropout_gives_the_unmarked_sentence(workspace):
    data = DATA
    tokenizer = workspace.tokenizer(workspace.model_path("tiny", data), "typed_punct")
    train = data.train
    plain = encode(train, tokenizer, "none", 64, data.labels)
    marked = encode(train, tokenizer, "typed_punct", 64, data.labels)
    dropped = augment_train(train, marker_dropout_p=1.0, seed=0)
    assert all(dropped.unmarked)
    every = encode(train, tokenizer, "typed_punct", 64, data.labels, dropped.unmarked)
    assert np.array_equal(every.ids, plain.ids)
    assert np.array_equal(every.subject_index, plain.subject_index)
    assert not np.array_equal(every.ids, marked.ids)
    half = [i % 2 == 0 for i in range(len(train))]
    mixed = encode(train, tokenizer, "typed_punct", 64, data.labels, half)
    for i, drop in enumerate(half):
        expected = plain if drop else marked
        assert np.array_equal(mixed.input_ids(i), expected.input_ids(i))
    assert "@" not in mark_example(train.examples[0], "none").text


# --- hyperparameters, spaces, runs --------------------------------------------------------------


@pytest.mark.parametrize("name", AUGMENTATIONS)
@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_probabilities_outside_0_1_are_one_line_errors(name, value):
    with pytest.raises(UserError, match=rf"^--{name}: must be in \[0, 1\], got") as caught:
        HParams(**{name: value})
    assert "\n" not in str(caught.value)


def test_augmentation_is_off_by_default_and_a_flag_a_config_key_and_a_space_parameter(tmp_path):
    assert all(getattr(HParams(), name) == 0.0 for name in AUGMENTATIONS)
    config = tmp_path / "c.json"
    config.write_text('{"aug_aeda": 0.3}', encoding="utf-8")
    args = finetune.build_parser().parse_args(
        ["--config", str(config), "--aug_entity_swap", "0.5", "--out", "x"]
    )
    hp, _ = finetune.resolve_hparams(args)
    assert (hp.aug_entity_swap, hp.aug_aeda, hp.aug_marker_dropout) == (0.5, 0.3, 0.0)
    for model in ("tiny", "klue/roberta-large"):
        space = load_space(model=model)
        assert all(space.params[name].value == 0.0 for name in AUGMENTATIONS)
    searched = tmp_path / "space.toml"
    searched.write_text("[aug_aeda]\nlow = 0.0\nhigh = 0.5\n", encoding="utf-8")
    assert load_space(searched).params["aug_aeda"].high == 0.5
    searched.write_text("[aug_aeda]\nlow = 0.0\nhigh = 2.0\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"\[aug_aeda\]: must be in \[0, 1\]"):
        load_space(searched)


@pytest.mark.slow
def test_dev_and_test_are_never_augmented_in_a_run(workspace, monkeypatch):
    data = DATA
    seen = []
    real_get = workspace.features.get

    def spy(dataset, *args, **kwargs):
        seen.append(dataset)
        return real_get(dataset, *args, **kwargs)

    encoded = []
    import objectives.training._workspace as train_module

    real_encode = train_module.encode

    def spy_encode(dataset, *args, **kwargs):
        encoded.append(dataset)
        return real_encode(dataset, *args, **kwargs)

    monkeypatch.setattr(workspace.features, "get", spy)
    monkeypatch.setattr(train_module, "encode", spy_encode)
    hp = HParams(**FAST, aug_entity_swap=1.0, aug_aeda=1.0, aug_marker_dropout=0.5)
    result = fine_tune(hp, RunSettings(eval_steps=2), data, None, workspace)
    assert result.status == "complete"
    assert seen == [data.dev, data.test]  # the cached path gets dev and test as they are
    assert len(encoded) == 1 and len(encoded[0]) == 3 * len(data.train)  # train only, augmented
    assert result.total_steps == 9  # 144 train examples / batch 16
    assert result.dev_logits.shape[0] == len(data.dev)
    plain = fine_tune(dataclasses.replace(hp, **dict.fromkeys(AUGMENTATIONS, 0.0)),
                      RunSettings(eval_steps=2), data, None, workspace)  # fmt: skip
    assert plain.total_steps == 3
    assert seen[-2:] == [data.dev, data.test] and seen[-3] is data.train


@pytest.mark.slow
@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_a_tiny_model_run_with_each_augmentation_completes(workspace, name):
    hp = HParams(**FAST, **{name: 0.5})
    data = DATA
    result = fine_tune(hp, RunSettings(eval_steps=2), data, None, workspace)
    assert result.status == "complete"
    assert np.isfinite(result.metrics["loss"])
    augmented = augment_train(data.train, **hp.augmentation())
    assert result.total_steps == math.ceil(len(augmented.dataset) / 16)
    assert (len(augmented.dataset) > len(data.train)) == (name != "aug_marker_dropout")
    # what the run record says it trained on: the augmented size, and each kind's count
    kind = name.removeprefix("aug_")
    assert result.examples["train"] == len(augmented.dataset)
    assert result.examples["dev"] == len(data.dev)
    assert result.examples[f"train_{kind}"] == augmented.added[kind] > 0


def test_the_fake_run_walks_the_augmented_schedule_too():
    from search.testing import fake_fine_tune

    hp = HParams(**FAST, aug_aeda=0.5, aug_marker_dropout=0.25)
    result = fake_fine_tune(hp, RunSettings(eval_steps=2), DATA, None, None)
    n = len(DATA.train)
    assert result.examples["train"] == n + round(n * 0.5) == n + result.examples["train_aeda"]
    assert result.examples["train_marker_dropout"] == round(result.examples["train"] * 0.25)
    assert result.total_steps == math.ceil(result.examples["train"] / 16)
    plain = fake_fine_tune(HParams(**FAST), RunSettings(eval_steps=2), DATA, None, None)
    assert plain.examples == {"train": n, "dev": len(DATA.dev)}
    assert plain.total_steps == math.ceil(n / 16)

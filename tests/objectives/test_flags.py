"""transformers-compatible hyperparameters: transformers 5's warmup_steps (a ratio below 1), the
scheduler, clipping and accumulation, either flag spelling, and configs TrainingArguments reads."""

from __future__ import annotations

import optuna
import pytest
import transformers
from transformers import HfArgumentParser, TrainingArguments

from common._cli import UserError
from objectives._hparams import SCHEDULERS, HParams, hparams_from_mapping
from objectives.finetune import build_parser, resolve_hparams
from search._sampling import suggest
from search._space import load_space
from search.run import build_parser as search_parser


def test_an_exported_config_loads_as_training_arguments(tmp_path) -> None:
    hp = HParams(
        warmup_ratio=0.2, lr_scheduler_type="cosine", max_grad_norm=0.5,
        gradient_accumulation_steps=2, per_device_train_batch_size=16,
    )  # fmt: skip
    (args,) = HfArgumentParser(TrainingArguments).parse_dict(
        {**hp.to_dict(), "output_dir": str(tmp_path)}, allow_extra_keys=True
    )
    assert args.warmup_steps == 0.2 and args.lr_scheduler_type == "cosine"
    assert args.max_grad_norm == 0.5 and args.gradient_accumulation_steps == 2
    assert args.per_device_train_batch_size == 16 and args.learning_rate == hp.learning_rate
    assert hparams_from_mapping(hp.to_dict(), "export") == hp  # and back


def test_warmup_steps_below_one_is_a_ratio_and_above_counts_steps() -> None:
    assert hparams_from_mapping({"warmup_steps": 0.05}, "c").warmup_ratio == 0.05
    hp = hparams_from_mapping({"warmup_steps": 100}, "c")
    assert hp.warmup_steps == 100 and hp.warmup(1000) == 100
    assert HParams(warmup_ratio=0.1).warmup(1000) == 100
    with pytest.raises(UserError, match=r"warmup_steps 0.3 .* warmup_ratio 0.1 disagree"):
        hparams_from_mapping({"warmup_steps": 0.3, "warmup_ratio": 0.1}, "c")


def test_finetune_takes_either_spelling_and_the_new_flags() -> None:
    argv = [
        "--warmup-steps", "0.25", "--lr_scheduler_type", "constant_with_warmup",
        "--max-grad-norm", "0", "--gradient_accumulation_steps", "4", "--output_dir", "o",
    ]  # fmt: skip
    args = build_parser().parse_args(argv)
    hp, _ = resolve_hparams(args)
    assert (hp.warmup_ratio, hp.warmup_steps, hp.lr_scheduler_type) == (
        0.25, 0, "constant_with_warmup"
    )  # fmt: skip
    assert hp.max_grad_norm == 0 and hp.gradient_accumulation_steps == 4
    assert str(args.out) == "o"
    old = resolve_hparams(build_parser().parse_args(["--warmup_ratio", "0.3", "--out", "o"]))
    assert old[0].warmup_ratio == 0.3


def test_search_run_takes_either_spelling() -> None:
    args = search_parser().parse_args(["--min_resource", "2", "--evals-per-epoch=3", "-q"])
    assert args.min_resource == 2 and args.evals_per_epoch == 3 and args.quiet


def test_schedulers_are_transformers_names() -> None:
    names = {kind.value for kind in transformers.SchedulerType}
    assert set(SCHEDULERS) <= names
    with pytest.raises(UserError, match="--lr_scheduler_type: 'warmup' is not one of"):
        HParams(lr_scheduler_type="warmup")


def test_scheduler_and_clipping_are_searchable(tmp_path) -> None:
    path = tmp_path / "space.toml"
    path.write_text(
        '[lr_scheduler_type]\nchoices = ["linear", "cosine"]\n\n'
        "[max_grad_norm]\nlow = 0.1\nhigh = 10.0\nlog = true\n"
    )
    space = load_space(path, "tiny")
    study = optuna.create_study()
    params = suggest(study.ask(), space, "tiny")
    hp = hparams_from_mapping({k: v for k, v in params.items() if k != "model"}, "trial")
    assert hp.lr_scheduler_type in ("linear", "cosine") and 0.1 <= hp.max_grad_norm <= 10

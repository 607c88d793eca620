"""``python -m objectives.finetune``: one fine-tuning run with a known configuration, no study.

Flags follow transformers' ``TrainingArguments`` where one exists. Precedence: flags, then
``--config FILE`` (JSON or TOML, e.g. a configuration exported by ``search.report``), then the
defaults. Every value is checked before any model is loaded.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from argparse import Namespace
from pathlib import Path
from typing import Any

from common._cli import (
    NOTICE,
    ArgumentParser,
    add_log_flags,
    configure_logging,
    log_level,
    quiet_libraries,
    run_main,
)
from common._paths import cache_root
from objectives._hparams import HParams, RunSettings, hparams_from_mapping, read_config
from objectives.data._inputs import data_paths, describe_labels, load_trial_data
from objectives.data._labels import NO_RELATION
from objectives.training._loop import fine_tune
from objectives.training._outputs import write_run
from objectives.training._runtime import CADENCE, apply_threads, version_drift

log = logging.getLogger("objectives.finetune")  # its name also when run as __main__
_TYPES = {"int": int, "float": float, "str": str}
HPARAM_HELP = {
    "learning_rate": "peak learning rate of AdamW (the built-in suits pretrained encoders)",
    "warmup_ratio": "share of the steps the learning rate warms up over",
    "warmup_steps": "warm-up steps; below 1, the share of the steps (transformers 5's spelling)",
    "lr_scheduler_type": "learning-rate schedule after warm-up (transformers.get_scheduler)",
    "max_grad_norm": "clip the gradient norm to it; 0 does not clip",
    "gradient_accumulation_steps": "an optimizer step sees this many batches",
    "num_train_epochs": "epochs over the training data",
    "per_device_train_batch_size": "examples per optimizer step",
    "weight_decay": "AdamW weight decay",
    "focal_gamma": "focal loss gamma; 0 is cross-entropy",
    "label_smoothing_factor": "label smoothing of the targets",
    "max_len": "tokens per example, special and marker tokens included",
    "markers": "how entities are marked in the sentence",
    "pooling": "the representation classified: cls, or the entity start markers",
    "seed": "seed of initialization, shuffling and augmentation",
    "aug_entity_swap": "probability of an augmented copy with the entities' words swapped",
    "aug_aeda": "probability of an augmented copy with punctuation inserted (AEDA)",
    "aug_marker_dropout": "probability of an augmented copy without entity markers",
}
TINY_RATES = "1e-4..5e-3 (search/tiny_space.toml)"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m objectives.finetune",
        description="Fine-tune a model for relation extraction once, with a known configuration.",
    )
    data = parser.add_argument_group("data (default: the built-in sample data)")
    data.add_argument("--train", type=Path, help="KLUE JSON, JSONL or competition CSV")
    data.add_argument("--dev", type=Path, help="labeled data scored every evaluation")
    data.add_argument("--test", type=Path, help="predict it with the best checkpoint")
    data.add_argument(
        "--labels", type=Path, help="relation list file (default: inferred from --train)"
    )
    data.add_argument(
        "--no_relation", "--no-relation", default=NO_RELATION, help="the label F1 leaves out"
    )

    hp = parser.add_argument_group("hyperparameters (default: --config, then built-in)")
    defaults = HParams()
    for f in dataclasses.fields(HParams):
        text = f"{HPARAM_HELP.get(f.name, f.name)} (built-in: {getattr(defaults, f.name)})"
        kind = float if f.name == "warmup_steps" else _TYPES[str(f.type)]
        hp.add_argument(f"--{f.name}", type=kind, default=None, help=text)
    hp.add_argument("--config", type=Path, help="JSON or TOML file of hyperparameters")

    run = parser.add_argument_group("run settings")
    run.add_argument("--model", default=None, help="'tiny', a local directory or a hub id")
    run.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: --config's, auto)")
    precision = run.add_mutually_exclusive_group()
    precision.add_argument(
        "--precision", choices=("auto", "fp16", "bf16", "no"), help="default: --config's, auto"
    )
    precision.add_argument("--fp16", action="store_true", help="same as --precision fp16")
    precision.add_argument("--bf16", action="store_true", help="same as --precision bf16")
    run.add_argument("--eval_steps", type=int, help="evaluate every N optimizer steps")
    run.add_argument("--evals_per_epoch", type=int, help="default: --config's, 4")
    run.add_argument("--evals_per_run", type=int, help="instead of per epoch, per run")
    run.add_argument("--eval_batch_size", type=int, help="default: --config's, 128")
    run.add_argument("--threads", type=int, help="torch CPU threads (default: --config's)")
    run.add_argument("--max_micro_batch_size", type=int, help="accumulate gradients above it")
    run.add_argument("--save_checkpoint", action="store_true", help="keep the best checkpoint")
    run.add_argument("--cache_dir", type=Path, help="default: $RE_SEARCH_CACHE or ~/.cache")
    run.add_argument("--no_progress", action="store_true")
    add_log_flags(parser)
    run.add_argument("--out", "--output_dir", type=Path, required=True, help="output directory")
    return parser


def resolve_hparams(args: Namespace) -> tuple[HParams, str | None]:
    """Flags over the config file over defaults. Returns the model a config file names too."""
    config: dict[str, Any] = {}
    model = None
    if args.config is not None:
        config = read_config(args.config)
        model = config.get("model")
        config = dict(config.get("hparams", config))
        config.pop("model", None)
        config.pop("runtime", None)
    base = hparams_from_mapping(config, f"--config {args.config}") if config else HParams()
    flags = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(HParams)
        if getattr(args, f.name) is not None
    }
    if "warmup_ratio" in flags and "warmup_steps" not in flags:
        flags["warmup_steps"] = 0  # the ratio given on the command line wins over the file's steps
    return hparams_from_mapping(flags, "flags", base), model


def run_settings(args: Namespace, model: str | None, runtime: dict[str, Any]) -> RunSettings:
    """Flags over the config's recorded runtime (a trial's) over defaults."""
    precision = "fp16" if args.fp16 else "bf16" if args.bf16 else args.precision
    cadence = {name: runtime[name] for name in CADENCE if runtime.get(name) is not None}
    flags = {name: getattr(args, name) for name in CADENCE if getattr(args, name) is not None}
    if args.eval_steps is not None or args.evals_per_epoch is not None:
        cadence.pop("evals_per_run", None)  # a cadence given on the command line wins whole
    if args.evals_per_run is not None:
        cadence.pop("eval_steps", None)
    return RunSettings(
        model=args.model or model or "tiny",
        device=args.device or runtime.get("device") or "auto",
        precision=precision or runtime.get("precision") or "auto",
        **{**cadence, **flags},
        max_micro_batch_size=args.max_micro_batch_size,
        output_dir=args.out,
        save_checkpoint=args.save_checkpoint,
        cache_dir=args.cache_dir or cache_root(),
        progress=not args.no_progress,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries()
    configure_logging(log_level(args))
    hp, config_model = resolve_hparams(args)
    runtime = read_config(args.config).get("runtime") if args.config else None
    settings = run_settings(args, config_model, runtime or {})
    apply_threads(runtime, args.threads)
    for drift in version_drift(runtime):
        log.warning("--config %s was run with %s: values may differ", args.config, drift)
    train, dev, test = data_paths(args.train, args.dev, args.test)
    data = load_trial_data(train, dev, test, args.labels, args.no_relation)
    log.log(NOTICE, describe_labels(data, args.labels))
    if settings.model == "tiny" and args.learning_rate is None and hp.learning_rate < 1e-4:
        log.warning(
            "learning_rate %g suits a pretrained encoder; the tiny model, trained from scratch, "
            "learns with %s, e.g. --learning_rate 3e-3",
            *(hp.learning_rate, TINY_RATES),
        )
    result = fine_tune(hp, settings, data)
    written = write_run(args.out, result, hp, settings, data)
    summary = {"status": result.status, "best_step": result.best_step, **result.metrics}
    print(json.dumps(summary, indent=2))
    print(f"outputs: {', '.join(written.values())}")
    return 0 if result.status != "diverged" else 1


if __name__ == "__main__":
    run_main(main)

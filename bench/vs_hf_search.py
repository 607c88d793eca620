"""This service against transformers' own ``Trainer.hyperparameter_search``, side by side.

Both get the same trial budget (``--trials``), the same built-in sample data, the same tiny
model directory and the same cores, in one run, one after the other:

- ``ours``: ``search.run.main`` called from here (tiny model, the shipped tiny space, two
  objectives, MO-ASHA pruning, TPE, ``--seed``; its default workers: on a CPU-only machine one
  single-threaded process per core; ``--ours_workers 1`` keeps it in this process with a thread
  per core, as the HF side runs), read back from its SQLite study afterwards;
- ``hf``: ``Trainer.hyperparameter_search(backend="optuna", direction="maximize")`` as a user
  would set it up: ``model_init`` (``AutoModelForSequenceClassification``, 30 labels), the
  sentences marked with the same ``typed_punct`` scheme
  (``objectives.encoding._markers.mark_example``) and
  tokenized to 128 tokens, ``DataCollatorWithPadding``, length-grouped batches, ``compute_metrics``
  with KLUE's micro-F1 and AUPRC over the whole dev set, ``compute_objective`` = micro-F1 (its
  search is single-objective), evaluation four times per epoch (our cadence) so that optuna's
  ``MedianPruner`` can act, TPE with the same seed, fixed training seed, CPU.

What differs, and cannot be helped: Trainer searches five of our hyperparameters
(learning_rate, warmup_ratio, num_train_epochs, per_device_train_batch_size, weight_decay, same
ranges as ``search/tiny_space.toml``). ``max_len`` would need re-tokenizing per trial, so it is
fixed at 128; ``focal_gamma`` has no Trainer equivalent (cross-entropy); ``markers`` and
``pooling`` are fixed at ``typed_punct`` and ``cls`` (``AutoModelForSequenceClassification``'s
head). Ours searches all nine. Trainer records as a trial's value the micro-F1 of its LAST
evaluation; ours the best evaluation's. Both are reported, with the best over evaluations for
either side.

``ours_hf_space`` (opt-in through ``--order``) is search.run on Trainer's space, the other
parameters fixed as the HF side has them: the search and the loop without our head, markers,
max_len and loss. ``--ours_workers 1`` runs ours in one process with the HF side's threads.

    python bench/vs_hf_search.py                            # ~8 min on 2 idle cores (12 trials)
    python bench/vs_hf_search.py --order ours,hf,ours_hf_space   # ~10 min idle
    python bench/vs_hf_search.py --ours_workers 1 --out /tmp/vs_workers1.json

Wall and CPU times need an idle machine: under a load average of 3 the HF side (one process,
two threads) slowed ~3x and the default run took 21 minutes. Training steps and scores do not
depend on load; with two workers ours is not reproducible run to run (trial order is a race).
"""

from __future__ import annotations

import os

# Before transformers is imported: a benchmark never reaches the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import functools
import math
import resource
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import harness
import hf_trainer
import numpy as np
import optuna
import torch
from optuna.trial import FrozenTrial
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
)

from common._cli import UserError, quiet_libraries, run_main
from objectives._metrics import evaluate
from objectives.data._inputs import TrialData, load_trial_data
from objectives.data._labels import LabelSet
from objectives.data._sample_data import ensure_sample_data
from objectives.encoding._markers import mark_example
from objectives.models._tiny import ensure_tiny_model
from search import run as search_run
from search._attrs import trial_run
from search._config import cpu_threads
from search._devices import default_workers
from search.pruning._evaluations import evals_of
from storage._opening import open_storage

MAX_LEN = 128
MARKERS = "typed_punct"
EVALS_PER_EPOCH = 4  # search.run's default --evals-per-epoch
TRAIN_SEED = 42  # HParams' default seed: ours trains every trial with it
EVAL_BATCH = 128  # RunSettings' default eval_batch_size
SIDES = ("ours", "hf", "ours_hf_space")

# The tiny space's ranges (search/tiny_space.toml) for what Trainer can vary.
LEARNING_RATE = (1e-4, 5e-3)
WARMUP_RATIO = (0.0, 0.2)
EPOCHS = (1, 3)
BATCH_SIZES = (16, 32, 64)
WEIGHT_DECAY = (0.0, 0.1)


# --- transformers' search, as a user sets it up --------------------------------------------------


def eval_steps_for(batch_size: int, train_size: int, per_epoch: int = EVALS_PER_EPOCH) -> int:
    """Steps between evaluations for ``per_epoch`` evaluations an epoch (ours: the same rule)."""
    return max(1, math.ceil(train_size / batch_size) // per_epoch)


def hf_space(trial: optuna.Trial, train_size: int) -> dict[str, Any]:
    """The five hyperparameters Trainer can vary, with the tiny space's ranges.

    transformers 5 has no ``warmup_ratio``: ``warmup_steps`` below 1 is the ratio. ``eval_steps``
    is not searched: it follows the batch size so every trial evaluates four times an epoch.
    """
    batch = trial.suggest_categorical("per_device_train_batch_size", list(BATCH_SIZES))
    return {
        "learning_rate": trial.suggest_float("learning_rate", *LEARNING_RATE, log=True),
        "warmup_steps": trial.suggest_float("warmup_ratio", *WARMUP_RATIO),
        "num_train_epochs": trial.suggest_int("num_train_epochs", *EPOCHS),
        "per_device_train_batch_size": batch,
        "weight_decay": trial.suggest_float("weight_decay", *WEIGHT_DECAY),
        "eval_steps": eval_steps_for(batch, train_size),
    }


def encode_for_trainer(data: TrialData, tokenizer, split: str) -> list[dict[str, Any]]:
    """Marked, tokenized examples as Trainer takes them: lists, padded later by the collator."""
    examples = getattr(data, split).examples
    texts = [mark_example(ex, MARKERS).text for ex in examples]
    encoded = tokenizer(texts, truncation=True, max_length=MAX_LEN)
    return [
        {
            "input_ids": encoded["input_ids"][i],
            "attention_mask": encoded["attention_mask"][i],
            "labels": data.labels.id(ex.label),
        }
        for i, ex in enumerate(examples)
    ]


def klue_metrics(eval_pred, labels: LabelSet) -> dict[str, float]:
    """``compute_metrics``: KLUE's micro-F1 and AUPRC over the whole dev set, once."""
    logits, gold = eval_pred.predictions, eval_pred.label_ids
    metrics = evaluate(np.asarray(logits), np.asarray(gold), labels)
    return {"micro_f1": metrics["micro_f1"], "auprc": metrics["auprc"]}


def micro_f1_objective(metrics: dict[str, float]) -> float:
    return metrics["eval_micro_f1"]


class TrialRecorder(TrainerCallback):
    """Per trial (keyed by ``hp_name``, the trial number): steps trained and every evaluation."""

    def __init__(self) -> None:
        self.trials: dict[int, dict[str, Any]] = {}
        self.current: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.current = int(state.trial_name or 0)  # None when trained outside a search
        self.trials[self.current] = {"steps": 0, "evals": []}

    def on_step_end(self, args, state, control, **kwargs):
        record = self.trials[self.current]
        record["steps"] = max(record["steps"], state.global_step)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.trials[self.current]["evals"].append(
            {
                "step": state.global_step,
                "micro_f1": metrics["eval_micro_f1"],
                "auprc": metrics["eval_auprc"],
            }
        )

    def on_train_end(self, args, state, control, **kwargs):
        record = self.trials[self.current]
        best = max((e["micro_f1"] for e in record["evals"]), default=float("nan"))
        print(f"hf trial {self.current}: {record['steps']} steps, best micro-F1 {best:.2f}")


def build_trainer(
    data: TrialData, model_path: Path, workdir: Path, recorder: TrialRecorder
) -> Trainer:
    """The Trainer a user hands to ``hyperparameter_search``: data tokenized once, model_init."""
    hf_trainer.fresh_accelerate_state()
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    train = encode_for_trainer(data, tokenizer, "train")
    dev = encode_for_trainer(data, tokenizer, "dev")
    names = data.labels.names

    def model_init(trial=None):
        return AutoModelForSequenceClassification.from_pretrained(
            model_path,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            label2id={name: i for i, name in enumerate(names)},
        )

    args = hf_trainer.cpu_training_args(
        str(workdir / "hf"),
        TRAIN_SEED,
        eval_strategy="steps",
        eval_steps=eval_steps_for(32, len(train)),  # replaced per trial by hf_space
        per_device_eval_batch_size=EVAL_BATCH,
        warmup_steps=0.0,  # a float: Trainer casts each suggested value to the default's type
        train_sampling_strategy="group_by_length",
    )
    return hf_trainer.quiet_trainer(
        model_init=model_init,
        args=args,
        train_dataset=train,
        eval_dataset=dev,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=functools.partial(klue_metrics, labels=data.labels),
        callbacks=[recorder],
    )


def run_hf(
    data: TrialData, model_path: Path, trials: int, seed: int, pruner: str, workdir: Path
) -> dict[str, Any]:
    """``Trainer.hyperparameter_search`` over ``trials`` trials; the summary with its wall time."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    recorder = TrialRecorder()
    trainer = build_trainer(data, model_path, workdir, recorder)
    storage = optuna.storages.InMemoryStorage()
    trainer.hyperparameter_search(
        hp_space=functools.partial(hf_space, train_size=len(data.train.examples)),
        compute_objective=micro_f1_objective,
        n_trials=trials,
        direction="maximize",
        backend="optuna",
        hp_name=lambda trial: str(trial.number),
        storage=storage,
        study_name="hf",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner() if pruner == "median" else optuna.pruners.NopPruner(),
    )
    wall = time.perf_counter() - started
    study = optuna.load_study(study_name="hf", storage=storage)
    summary = summarize_hf(study.get_trials(deepcopy=False), recorder.trials, wall)
    # what Trainer's search reports as best: the LAST evaluation's micro-F1 of its best trial
    summary["reported_best_micro_f1"] = _max(
        r["value_last_eval_micro_f1"] for r in summary["rows"] if r["state"] == "COMPLETE"
    )
    summary["cpu_s"] = round(cpu_seconds() - cpu_started, 1)
    summary["workers"] = 1
    summary["torch_threads_per_worker"] = torch.get_num_threads()
    return summary


def summarize_hf(
    trials: Sequence[FrozenTrial], records: dict[int, dict[str, Any]], wall: float
) -> dict[str, Any]:
    rows = []
    for t in trials:
        record = records.get(t.number, {"steps": 0, "evals": []})
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "params": t.params,
                "value_last_eval_micro_f1": t.value,
                "steps": record["steps"],
                "evals": record["evals"],
                **_best_of(record["evals"]),
            }
        )
    return _summary(rows, wall)


# --- this service --------------------------------------------------------------------------------


@contextmanager
def kept_signal_handlers() -> Iterator[None]:
    """search.run installs its own SIGINT/SIGTERM handlers; Ctrl-C must still stop the HF side."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def hf_space_toml() -> str:
    """Trainer's search space as a space file for search.run: the same five ranges, the rest fixed
    where the HF side has them."""
    low_lr, high_lr = LEARNING_RATE
    return "\n".join(
        [
            f"[learning_rate]\nlow = {low_lr}\nhigh = {high_lr}\nlog = true",
            f"[warmup_ratio]\nlow = {WARMUP_RATIO[0]}\nhigh = {WARMUP_RATIO[1]}",
            f"[num_train_epochs]\nlow = {EPOCHS[0]}\nhigh = {EPOCHS[1]}",
            f"[per_device_train_batch_size]\nchoices = {list(BATCH_SIZES)}",
            f"[weight_decay]\nlow = {WEIGHT_DECAY[0]}\nhigh = {WEIGHT_DECAY[1]}",
            f"[max_len]\nvalue = {MAX_LEN}",
            f'[markers]\nvalue = "{MARKERS}"',
            '[pooling]\nvalue = "cls"',
            "[focal_gamma]\nvalue = 0.0",
        ]
    )


def run_ours(
    name: str,
    sample_dir: Path,
    cache_dir: Path,
    trials: int,
    seed: int,
    workers: int | None,
    workdir: Path,
    space: Path | None = None,
) -> dict[str, Any]:
    """``search.run.main`` called here; the summary, read back from its study, with its wall time.

    ``workers`` None leaves search.run's default: on a CPU-only machine one single-threaded worker
    process per core; 1 runs the trials in this process with every core's thread. ``space`` None
    is the shipped tiny space.
    """
    url = f"sqlite:///{(workdir / f'{name}.db').as_posix()}"
    argv = [
        *("--train", str(sample_dir / "train.json"), "--dev", str(sample_dir / "dev.json")),
        *("--trials", str(trials), "--storage", url, "--study", name, "--seed", str(seed)),
        *("--cache-dir", str(cache_dir), "--quiet"),
        *(("--workers", str(workers)) if workers is not None else ()),
        *(("--space", str(space)) if space is not None else ()),
    ]
    started, cpu_started = time.perf_counter(), cpu_seconds()
    with kept_signal_handlers():
        code = search_run.main(argv)
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    if code != 0:
        raise RuntimeError(f"search.run exited with {code}")
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    summary = summarize_ours(study.get_trials(deepcopy=False), wall)
    summary["cpu_s"] = round(cpu, 1)
    config_workers = workers if workers is not None else default_workers(())
    summary["workers"] = config_workers
    summary["torch_threads_per_worker"] = cpu_threads(config_workers)
    return summary


def summarize_ours(trials: Sequence[FrozenTrial], wall: float) -> dict[str, Any]:
    rows = []
    for t in trials:
        evals = [
            {"step": step, "micro_f1": values[0], "auprc": values[1]}
            for step, values in evals_of(t).items()
        ]
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "params": t.params,
                "values": t.values,
                "steps": int(trial_run(t).get("steps", 0)),
                "total_steps": int(trial_run(t).get("total_steps", 0)),
                "evals": evals,
                **_best_of(evals),
            }
        )
    summary = _summary(rows, wall)
    # what the service reports as best: a COMPLETE trial's values (its best-F1 evaluation's)
    summary["reported_best_micro_f1"] = _max(
        r["values"][0] for r in rows if r["state"] == "COMPLETE" and r["values"]
    )
    summary["steps_planned"] = sum(r["total_steps"] for r in rows)
    return summary


# --- both sides ----------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User + system CPU time of this process and its waited-for children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _best_of(evals: Sequence[dict[str, float]]) -> dict[str, float | None]:
    return {
        "best_micro_f1": max((e["micro_f1"] for e in evals), default=None),
        "best_auprc": max((e["auprc"] for e in evals), default=None),
    }


def _max(values: Iterator[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return round(max(found), 3) if found else None


def _summary(rows: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    """Counts and bests; "complete" bests count COMPLETE trials only, "any" every evaluation."""
    states = [r["state"] for r in rows]
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    return {
        "wall_s": round(wall, 1),
        "steps": sum(r["steps"] for r in rows),
        "trials": len(rows),
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "failed": states.count("FAIL"),
        "best_micro_f1": _max(r["best_micro_f1"] for r in complete),
        "best_auprc": _max(r["best_auprc"] for r in complete),
        "best_micro_f1_any_eval": _max(r["best_micro_f1"] for r in rows),
        "best_auprc_any_eval": _max(r["best_auprc"] for r in rows),
        "rows": rows,
    }


def compare(side: dict[str, Any], hf: dict[str, Any]) -> dict[str, float | None]:
    """Ratios side/HF for compute (below 1: ``side`` spent less), differences for the scores."""

    def ratio(key: str) -> float | None:
        return round(side[key] / hf[key], 3) if hf[key] else None

    def gain(key: str) -> float | None:
        if side[key] is None or hf[key] is None:
            return None
        return round(side[key] - hf[key], 3)

    return {
        "wall_ratio": ratio("wall_s"),
        "cpu_ratio": ratio("cpu_s"),
        "steps_ratio": ratio("steps"),
        "micro_f1_gain": gain("best_micro_f1"),
        "auprc_gain": gain("best_auprc"),
        "micro_f1_any_eval_gain": gain("best_micro_f1_any_eval"),
        "auprc_any_eval_gain": gain("best_auprc_any_eval"),
        "reported_micro_f1_gain": gain("reported_best_micro_f1"),
    }


# (row label, summary key, ratio key): the ratio columns hold side/hf for compute, and the
# difference side - hf (points) for the scores
_ROWS = (
    ("workers x torch threads", "workers", None),
    ("wall s", "wall_s", "wall_ratio"),
    ("CPU s (user+sys)", "cpu_s", "cpu_ratio"),
    ("training steps", "steps", "steps_ratio"),
    ("trials complete", "complete", None),
    ("trials pruned", "pruned", None),
    ("trials failed", "failed", None),
    ("best micro-F1 (complete trials)", "best_micro_f1", "micro_f1_gain"),
    ("best AUPRC (complete trials)", "best_auprc", "auprc_gain"),
    ("best micro-F1, any evaluation", "best_micro_f1_any_eval", "micro_f1_any_eval_gain"),
    ("best AUPRC, any evaluation", "best_auprc_any_eval", "auprc_any_eval_gain"),
    ("best micro-F1 the search reports", "reported_best_micro_f1", "reported_micro_f1_gain"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def format_table(results: dict[str, dict[str, Any]], ratios: dict[str, dict[str, Any]]) -> str:
    """One column per side, then one per non-HF side against HF (ratio, or score difference)."""
    header = ["", *results, *(f"{side} vs hf" for side in ratios)]
    rows = [header]
    for label, key, ratio_key in _ROWS:
        if key == "workers":
            values = [f"{r['workers']} x {r['torch_threads_per_worker']}" for r in results.values()]
        else:
            values = [_cell(r[key]) for r in results.values()]
        versus = [_cell(r[ratio_key]) if ratio_key else "" for r in ratios.values()]
        rows.append([label, *values, *versus])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            [
                row[0].ljust(widths[0]),
                *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
            ]
        )
        for row in rows
    )


# --- the command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python bench/vs_hf_search.py", description=__doc__)
    parser.add_argument("--trials", type=int, default=12, help="trial budget of each side")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed of both sides")
    parser.add_argument(
        "--order",
        default="ours,hf",
        help="the sides, in the order they run: hf and ours, ours_hf_space (search.run on HF's "
        "five-parameter space: the search without our head, markers, max_len and loss)",
    )
    parser.add_argument("--hf_pruner", default="median", choices=("median", "none"))
    parser.add_argument(
        "--ours_workers", type=int, help="search.run --workers (default: search.run's own)"
    )
    parser.add_argument("--workdir", type=Path, help="keep the studies here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=harness.RESULTS / "vs_hf_search.json")
    return parser


def check_args(args: argparse.Namespace) -> list[str]:
    """The validated run order; raises UserError naming the flag."""
    if args.trials < 1:
        raise UserError(f"--trials: must be at least 1, got {args.trials}")
    if args.ours_workers is not None and args.ours_workers < 1:
        raise UserError(f"--ours_workers: must be at least 1, got {args.ours_workers}")
    order = [part.strip() for part in args.order.split(",")]
    if len(set(order)) != len(order) or not set(order) <= set(SIDES) or "hf" not in order:
        raise UserError(
            f"--order: {args.order!r}: name hf and one or both of ours, ours_hf_space, each once"
        )
    if len(order) < 2:
        raise UserError(f"--order: {args.order!r}: hf needs something to be compared with")
    if args.workdir is not None and any(args.workdir.glob("*.db")):
        raise UserError(f"--workdir {args.workdir}: holds studies already; give an empty folder")
    return order


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    order = check_args(args)
    quiet_libraries()
    load_start = harness.load_average()
    with tempfile.TemporaryDirectory(prefix="vs-hf-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        # A fresh cache: ours tokenizes inside its timed search, as the HF side does.
        cache_dir = workdir / "cache"
        sample_dir = ensure_sample_data(cache_dir)
        data = load_trial_data(sample_dir / "train.json", sample_dir / "dev.json")
        model_path = ensure_tiny_model(data.sentences(), cache_dir)  # shared, built untimed
        threads = cpu_threads(1)  # what search.run gives one in-process worker; HF gets it too
        results: dict[str, dict[str, Any]] = {}
        space = workdir / "hf_space.toml"
        space.write_text(hf_space_toml() + "\n", encoding="utf-8")
        for side in order:
            torch.set_num_threads(threads)
            print(f"--- {side}: {args.trials} trials", flush=True)
            if side == "hf":
                results[side] = run_hf(
                    data, model_path, args.trials, args.seed, args.hf_pruner, workdir
                )
            else:
                results[side] = run_ours(
                    side,
                    sample_dir,
                    cache_dir,
                    args.trials,
                    args.seed,
                    args.ours_workers,
                    workdir,
                    space if side == "ours_hf_space" else None,
                )
    ratios = {side: compare(r, results["hf"]) for side, r in results.items() if side != "hf"}
    record = {
        "benchmark": "vs_hf_search",
        "command": shlex.join(["python", "bench/vs_hf_search.py", *(argv or sys.argv[1:])]),
        "trials": args.trials,
        "seed": args.seed,
        "order": order,
        "hf_pruner": "MedianPruner()" if args.hf_pruner == "median" else "none",
        "hf_fixed": {"max_len": MAX_LEN, "markers": MARKERS, "pooling": "cls", "focal_gamma": 0},
        "ratios": ratios,
        **results,
        "machine": harness.machine_record(load_start, threads),
    }
    out = harness.save_result(args.out, record)
    print()
    print(format_table(results, ratios))
    harness.print_closing(record["machine"], out)
    return 0


if __name__ == "__main__":
    run_main(main)

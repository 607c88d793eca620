"""Training throughput (examples/s): this project's loop vs transformers' Trainer vs the baseline.

Three contenders train the same tiny model (``cls`` pooling, so the networks are identical) on the
same built-in sample train set, batch size 32, measured side by side in one process:

- ``ours``: ``objectives.training._loop.fine_tune`` (length-grouped batches, dynamic padding,
  max_len 128),
  with no evaluation inside the measured window (``RunResult.timings["train"]``);
- ``trainer``: transformers' ``Trainer`` as a user who knows it would set it up (the same
  tokenized inputs, ``DataCollatorWithPadding``, length grouping, no eval, no saving, no logging);
- ``baseline``: the competition's recipe, ``Trainer`` with every example padded to 256 tokens
  (``padding="max_length"``), random order, fp32.

The contenders run interleaved (ours, trainer, baseline, ours, ...) after one untimed warm-up
run each, so background load on a shared machine hits them alike; medians are reported.

    python bench/throughput.py                 # ~3-4 minutes on 2 busy cores
    python bench/throughput.py --repeats 9 --steps 75
"""

from __future__ import annotations

import os

# Before transformers is imported: a benchmark never reaches the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import hf_trainer
import torch
from transformers import DataCollatorWithPadding

from common._cli import UserError, quiet_libraries, run_main
from common._paths import cache_root
from objectives._hparams import HParams, RunSettings
from objectives.data._inputs import TrialData
from objectives.encoding._batching import train_batches
from objectives.encoding._features import Features
from objectives.encoding._markers import special_tokens
from objectives.models._loading import load_model, load_tokenizer
from objectives.training._loop import Workspace, fine_tune

BATCH = 32
MAX_LEN = 128
BASELINE_LEN = 256
MARKERS = "typed_punct"
GOALS = {"ours/trainer": 1.0, "ours/baseline": 2.5}


@dataclass(frozen=True)
class Setup:
    """What every contender shares: the data, the tiny model's path, tokenizer and caches."""

    data: TrialData
    workspace: Workspace
    model_path: str
    tokenizer: Any
    cache_dir: Path


def prepare(cache_dir: Path) -> Setup:
    """Sample data, tiny model and tokenized features, built (or found) before any timing."""
    data = harness.sample_data(cache_dir)
    workspace = Workspace(cache_dir)
    model_path = workspace.model_path("tiny", data)
    tokenizer = load_tokenizer(model_path, special_tokens(MARKERS))
    return Setup(data, workspace, model_path, tokenizer, cache_dir)


def features(setup: Setup, max_len: int) -> Features:
    return setup.workspace.features.get(
        setup.data.train, setup.tokenizer, MARKERS, max_len, setup.data.labels
    )


def examples_seen(n: int, batch: int, steps: int) -> int:
    """Examples in the first ``steps`` batches of epochs over ``n`` examples (last batch short)."""
    per_epoch = math.ceil(n / batch)
    epochs, rest = divmod(steps, per_epoch)
    return epochs * n + min(rest * batch, n)


# --- the contenders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    seconds: float  # the training steps only: no set-up, no evaluation
    examples: int
    padded_tokens: int  # input positions the model computed over, padding included


def run_ours(setup: Setup, steps: int, seed: int) -> Measurement:
    n = len(setup.data.train.examples)
    hp = HParams(
        per_device_train_batch_size=BATCH,
        max_len=MAX_LEN,
        markers=MARKERS,
        pooling="cls",
        num_train_epochs=harness.epochs_for_steps(n, BATCH, steps),
        seed=seed,
    )
    settings = RunSettings(device="cpu", eval_steps=10**9, cache_dir=setup.cache_dir)
    result = fine_tune(hp, settings, setup.data, None, setup.workspace)
    if result.steps != steps:
        raise RuntimeError(f"fine_tune ran {result.steps} steps, not {steps}")
    tokens = padded_tokens(features(setup, MAX_LEN), steps, seed)
    return Measurement(result.timings["train"], examples_seen(n, BATCH, steps), tokens)


def padded_tokens(feats: Features, steps: int, seed: int) -> int:
    """Positions in our first ``steps`` batches: the loop's own order, rebuilt from its seed."""
    batches = train_batches(feats, BATCH, torch.Generator().manual_seed(seed))
    return sum(
        int(feats.lengths[indices].max()) * len(indices)
        for _, indices in zip(range(steps), batches, strict=False)
    )


class TokenDataset(torch.utils.data.Dataset):
    """Tokenized examples as Trainer expects them (lists, converted once, outside the timing)."""

    def __init__(self, feats: Features, pad_id: int, pad_to: int | None = None) -> None:
        self.items = []
        for i in range(len(feats)):
            ids = feats.input_ids(i).tolist()
            mask = [1] * len(ids)
            if pad_to is not None:  # the competition's padding="max_length"
                ids += [pad_id] * (pad_to - len(ids))
                mask += [0] * (pad_to - len(mask))
            self.items.append(
                {"input_ids": ids, "attention_mask": mask, "labels": int(feats.labels[i])}
            )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.items[i]


class CountingCollator:
    """``DataCollatorWithPadding`` that also notes the positions of each batch it makes.

    Trainer's data loader fetches one batch beyond the last step; only the first ``steps`` count.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.inner = DataCollatorWithPadding(tokenizer)
        self.positions: list[int] = []

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(items)
        self.positions.append(batch["input_ids"].numel())
        return batch


def run_trainer(
    setup: Setup, steps: int, seed: int, dataset: TokenDataset, grouped: bool
) -> Measurement:
    hf_trainer.fresh_accelerate_state()
    torch.manual_seed(seed)
    model = load_model(setup.model_path, len(setup.data.labels), setup.tokenizer)
    collator = CountingCollator(setup.tokenizer)
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as out:
        args = hf_trainer.cpu_training_args(
            out,
            seed,
            per_device_train_batch_size=BATCH,
            max_steps=steps,
            learning_rate=5e-5,
            weight_decay=0.01,
            warmup_steps=0.1,
            train_sampling_strategy="group_by_length" if grouped else "random",
            eval_strategy="no",
        )
        trainer = hf_trainer.quiet_trainer(
            model=model,
            args=args,
            train_dataset=dataset,
            data_collator=collator,
            processing_class=setup.tokenizer,
        )
        # train_runtime: from after the optimizer/dataloader set-up to the last step.
        seconds = trainer.train().metrics["train_runtime"]
    examples = examples_seen(len(dataset), BATCH, steps)
    return Measurement(seconds, examples, sum(collator.positions[:steps]))


Contender = Callable[[int, int], Measurement]


def contenders(setup: Setup) -> dict[str, Contender]:
    pad_id = setup.tokenizer.pad_token_id
    grouped = TokenDataset(features(setup, MAX_LEN), pad_id)
    padded = TokenDataset(features(setup, BASELINE_LEN), pad_id, pad_to=BASELINE_LEN)
    runs: dict[str, Contender] = {
        "ours": lambda steps, seed: run_ours(setup, steps, seed),
        "trainer": lambda steps, seed: run_trainer(setup, steps, seed, grouped, grouped=True),
        "baseline": lambda steps, seed: run_trainer(setup, steps, seed, padded, grouped=False),
    }
    return runs


# --- measuring and reporting --------------------------------------------------------------------


def measure(setup: Setup, steps: int, repeats: int, seed: int) -> dict[str, dict[str, Any]]:
    """One untimed warm-up run each, then ``repeats`` interleaved rounds (A, B, C, A, B, C...)."""
    runs = contenders(setup)
    for name, run in runs.items():
        print(f"warm-up: {name}", flush=True)
        run(min(steps, 5), seed)
    out: dict[str, dict[str, Any]] = {
        name: {"examples_per_s": [], "seconds": [], "padded_tokens_per_example": []}
        for name in runs
    }
    for r in range(repeats):
        for name, run in runs.items():
            m = run(steps, seed + r)
            out[name]["seconds"].append(round(m.seconds, 4))
            out[name]["examples_per_s"].append(round(m.examples / m.seconds, 2))
            out[name]["padded_tokens_per_example"].append(round(m.padded_tokens / m.examples, 1))
            print(
                f"round {r + 1}/{repeats} {name:17s} {m.examples / m.seconds:7.1f} examples/s "
                f"({m.padded_tokens / m.examples:5.1f} positions/example)",
                flush=True,
            )
    for record in out.values():
        record["median_examples_per_s"] = round(statistics.median(record["examples_per_s"]), 2)
        positions = [
            p * e
            for p, e in zip(
                record["padded_tokens_per_example"], record["examples_per_s"], strict=True
            )
        ]
        record["median_positions_per_s"] = round(statistics.median(positions), 1)
    return out


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Ratio of medians, and the median of per-round ratios (paired: same load within a round).

    ``positions_ratio`` compares positions (padding included) per second: below the examples/s
    ratio, the difference is padding saved; near 1, the loops run at the same speed per position.
    """
    pairs = dict(GOALS)
    out = {}
    for key, goal in pairs.items():
        a, b = key.split("/")
        paired = [
            x / y
            for x, y in zip(results[a]["examples_per_s"], results[b]["examples_per_s"], strict=True)
        ]
        ratio = results[a]["median_examples_per_s"] / results[b]["median_examples_per_s"]
        positions = results[a]["median_positions_per_s"] / results[b]["median_positions_per_s"]
        out[key] = {
            "ratio_of_medians": round(ratio, 3),
            "median_paired_ratio": round(statistics.median(paired), 3),
            "paired_ratios": [round(x, 3) for x in paired],
            "positions_ratio": round(positions, 3),
            "goal": goal,
            "met": None if goal is None else ratio >= goal,
        }
    return out


def real_tokens_per_example(feats: Features, steps: int, seed: int) -> float:
    """Tokens (no padding) per example in our measured window: a floor for every contender."""
    batches = train_batches(feats, BATCH, torch.Generator().manual_seed(seed))
    real = sum(
        int(feats.lengths[indices].sum()) for _, indices in zip(range(steps), batches, strict=False)
    )
    return round(real / examples_seen(len(feats), BATCH, steps), 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python bench/throughput.py", description=__doc__)
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--cache_dir", type=Path, help="default: $RE_SEARCH_CACHE or ~/.cache")
    parser.add_argument("--out", type=Path, default=harness.RESULTS / "throughput.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.steps < 1 or args.repeats < 1:
        raise UserError("--steps and --repeats: must be at least 1")
    quiet_libraries()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load_start = harness.load_average()
    setup = prepare(args.cache_dir or cache_root())
    started = time.perf_counter()
    results = measure(setup, args.steps, args.repeats, args.seed)
    summary = ratios(results)
    record = {
        "benchmark": "throughput",
        "config": {
            "model": "tiny",
            "pooling": "cls",
            "markers": MARKERS,
            "batch_size": BATCH,
            "max_len": {"ours": MAX_LEN, "trainer": MAX_LEN, "baseline": BASELINE_LEN},
            "steps_per_measurement": args.steps,
            "repeats": args.repeats,
            "train_examples": len(setup.data.train.examples),
        },
        "real_tokens_per_example_first_round": real_tokens_per_example(
            features(setup, MAX_LEN), args.steps, args.seed
        ),
        "results": results,
        "ratios": summary,
        "machine": harness.machine_record(load_start, torch.get_num_threads()),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    out = harness.save_result(args.out, record)
    print()
    for name, r in results.items():
        print(f"{name:17s} median {r['median_examples_per_s']:7.1f} examples/s")
    for key, r in summary.items():
        verdict = "" if r["goal"] is None else f"  goal >= {r['goal']}: "
        verdict += "" if r["met"] is None else "met" if r["met"] else "MISSED"
        print(
            f"{key:24s} {r['ratio_of_medians']:.2f} (paired median {r['median_paired_ratio']:.2f},"
            f" per position {r['positions_ratio']:.2f}){verdict}"
        )
    harness.print_closing(record["machine"], out)
    return 0


if __name__ == "__main__":
    run_main(main)

"""What one tiny-model trial costs, and whether the loop learns: start-up, memory, learnability.

(i)   start-up with warm caches: from calling ``fine_tune`` to the end of the first optimizer step
      (``RunResult.timings["startup"]``) on the second and later calls in one process, the first
      call having loaded the tiny model, the tokenizer and the tokenized data (goal < 2 s);
(ii)  peak resident memory of one short trial in a fresh process: ``RunResult.memory`` as the
      child reports it, and the child's max RSS as the kernel counts it (``getrusage``
      ``RUSAGE_CHILDREN``, what ``/usr/bin/time -v`` prints) (goal < 1.5 GiB);
(iii) learnability on the built-in sample data: a reasonable configuration against a deliberately
      bad one, and the majority-class baselines, as dev micro-F1 and AUPRC (KLUE's definitions).

    python bench/trial_costs.py                        # ~3-5 minutes on 2 busy cores
    python bench/trial_costs.py --parts startup,memory
"""

from __future__ import annotations

import os

# Before transformers is imported: a benchmark never reaches the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import json
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import harness
import numpy as np
import torch

from common._cli import UserError, quiet_libraries, run_main
from common._paths import cache_root
from objectives._hparams import HParams, RunSettings
from objectives._metrics import auprc, micro_f1
from objectives.data._inputs import TrialData
from objectives.training._loop import Workspace, fine_tune

PARTS = ("startup", "memory", "learnability")
STARTUP_GOAL_S = 2.0
MEMORY_GOAL_MB = 1.5 * 1024

# The two learnability configurations, as objectives.finetune flags (they are also HParams).
REASONABLE = {
    "learning_rate": 1e-3,
    "pooling": "entity_start",
    "markers": "typed_punct",
    "max_len": 128,
    "num_train_epochs": 3.0,
    "per_device_train_batch_size": 32,
}
BAD = {
    "learning_rate": 1e-5,
    "pooling": "cls",
    "markers": "none",
    "max_len": 64,
    "num_train_epochs": 1.0,
    "per_device_train_batch_size": 32,
}


def short_hparams(data: TrialData, steps: int) -> HParams:
    """Default hyperparameters, trained for ``steps`` optimizer steps."""
    batch = HParams().per_device_train_batch_size
    return HParams(
        num_train_epochs=harness.epochs_for_steps(len(data.train.examples), batch, steps)
    )


# --- (i) start-up --------------------------------------------------------------------------------


def measure_startup(data: TrialData, cache_dir: Path, calls: int) -> dict[str, Any]:
    """``calls`` two-step runs sharing one Workspace; the first warms every cache."""
    workspace = Workspace(cache_dir)
    settings = RunSettings(device="cpu", eval_steps=10**9, cache_dir=cache_dir)
    hp = short_hparams(data, 2)
    runs = []
    for i in range(calls):
        result = fine_tune(hp, settings, data, None, workspace)
        runs.append({"startup_s": result.timings["startup"], **result.timings})
        print(f"call {i + 1}: startup {result.timings['startup']:.3f} s", flush=True)
    warm = [r["startup_s"] for r in runs[1:]]
    second = warm[0]
    return {
        "calls": runs,
        "cold_startup_s": runs[0]["startup_s"],
        "second_call_startup_s": second,
        "warm_median_startup_s": round(statistics.median(warm), 4),
        "feature_cache_hits": dict(workspace.features.hits),
        "goal_s": STARTUP_GOAL_S,
        "met": second < STARTUP_GOAL_S,
    }


# --- (ii) memory ---------------------------------------------------------------------------------


def child_trial(cache_dir: Path, steps: int) -> dict[str, Any]:
    """What the fresh process runs: read the sample data, one short trial with evaluations."""
    data = harness.sample_data(cache_dir)
    hp = short_hparams(data, steps)
    settings = RunSettings(device="cpu", eval_steps=max(1, steps // 4), cache_dir=cache_dir)
    result = fine_tune(hp, settings, data, None, Workspace(cache_dir))
    return {"memory": result.memory, "timings": result.timings, "steps": result.steps}


def measure_memory(cache_dir: Path, steps: int, threads: int | None) -> dict[str, Any]:
    """Run :func:`child_trial` in a fresh interpreter and read its peak RSS two ways."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, str(Path(__file__).resolve()), "--child_trial", str(steps)]
    command += ["--cache_dir", str(cache_dir)]
    if threads is not None:
        command += ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the child trial failed:\n{done.stderr}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    rusage_mb = round(peak_kib * scale / 2**20, 1)
    reported = child["memory"]["process_peak_rss_mb"]
    return {
        "child": child,
        "run_result_peak_rss_mb": reported,
        # The largest waited-for child; nothing bigger than the trial ran before it.
        "rusage_children_max_rss_mb": rusage_mb,
        "rusage_before_mb": round(before * scale / 2**20, 1),
        "goal_mb": MEMORY_GOAL_MB,
        "met": max(reported, rusage_mb) < MEMORY_GOAL_MB,
    }


# --- (iii) learnability --------------------------------------------------------------------------


def majority_baselines(data: TrialData, seed: int = 0) -> dict[str, Any]:
    """Dev scores of predictors that learned nothing.

    Micro-F1 of always predicting the most frequent train label, and the most frequent relation.
    AUPRC of the train label prior given to every example, and of random scores. KLUE's AUPRC
    integrates the PR curve with trapezoids, so a constant score (one threshold: recall 1 at
    precision p, then recall 0 at precision 1) earns (1 + p) / 2 per class, ~50 in all, while
    random scores earn about the class frequency p: only the latter is chance level.
    """
    labels = data.labels
    train = Counter(ex.label for ex in data.train.examples)
    gold = np.array([labels.id(ex.label) for ex in data.dev.examples])
    none = labels.name(labels.no_relation_id)
    relation = max((n, name) for name, n in train.items() if name != none)[1]
    majority = train.most_common(1)[0][0]
    prior = np.array([train.get(labels.name(i), 0) for i in range(len(labels))], dtype=float)
    constant = np.tile(prior / prior.sum(), (len(gold), 1))
    random_scores = np.random.default_rng(seed).random((len(gold), len(labels)))
    return {
        "majority_label": majority,
        "majority_label_micro_f1": micro_f1(np.full_like(gold, labels.id(majority)), gold, labels),
        "majority_relation": relation,
        "majority_relation_micro_f1": round(
            micro_f1(np.full_like(gold, labels.id(relation)), gold, labels), 3
        ),
        "constant_prior_auprc": round(auprc(constant, gold, len(labels)), 3),
        "random_scores_auprc": round(auprc(random_scores, gold, len(labels)), 3),
        "dev_classes_absent": int(len(labels) - len(set(gold.tolist()))),
    }


def finetune_command(config: dict[str, Any], out: str) -> str:
    flags = [f"--{name} {value}" for name, value in config.items()]
    return (
        shlex.join(["python", "-m", "objectives.finetune"])
        + " "
        + " ".join([*flags, "--device cpu", f"--out {out}"])
    )


def measure_learnability(data: TrialData, cache_dir: Path) -> dict[str, Any]:
    """Both configurations through ``fine_tune`` with the CLI's default run settings on CPU."""
    workspace = Workspace(cache_dir)
    settings = RunSettings(device="cpu", cache_dir=cache_dir)
    out: dict[str, Any] = {}
    for name, config in (("reasonable", REASONABLE), ("bad", BAD)):
        t = time.perf_counter()
        result = fine_tune(HParams(**config), settings, data, None, workspace)
        seconds = time.perf_counter() - t
        out[name] = {
            "hparams": HParams(**config).to_dict(),
            "command": finetune_command(config, f"runs/{name}"),
            "status": result.status,
            "micro_f1": round(result.metrics["micro_f1"], 3),
            "auprc": round(result.metrics["auprc"], 3),
            "accuracy": round(result.metrics["accuracy"], 3),
            "best_step": result.best_step,
            "steps": result.steps,
            "wall_s": round(seconds, 1),
            "curve": [
                {k: round(v, 3) for k, v in e.items() if k in ("step", "micro_f1", "auprc")}
                for e in result.evaluations
            ],
        }
        print(
            f"{name}: micro-F1 {result.metrics['micro_f1']:.2f}, AUPRC "
            f"{result.metrics['auprc']:.2f} ({seconds:.0f} s)",
            flush=True,
        )
    baselines = majority_baselines(data)
    out["baselines"] = baselines
    out["reasonable_beats_bad"] = out["reasonable"]["micro_f1"] > out["bad"]["micro_f1"]
    out["reasonable_beats_majority_relation"] = (
        out["reasonable"]["micro_f1"] > baselines["majority_relation_micro_f1"]
    )
    return out


# --- the command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python bench/trial_costs.py", description=__doc__)
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset")
    parser.add_argument("--warm_calls", type=int, default=3, help="start-up runs after the first")
    parser.add_argument("--memory_steps", type=int, default=20, help="steps of the child trial")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--cache_dir", type=Path, help="default: $RE_SEARCH_CACHE or ~/.cache")
    parser.add_argument("--out", type=Path, default=harness.RESULTS / "trial_costs.json")
    parser.add_argument("--child_trial", type=int, help=argparse.SUPPRESS)
    return parser


def print_summary(record: dict[str, Any]) -> None:
    if "startup" in record:
        s = record["startup"]
        print(
            f"start-up, second call: {s['second_call_startup_s']:.3f} s (cold "
            f"{s['cold_startup_s']:.3f} s, warm median {s['warm_median_startup_s']:.3f} s); "
            f"goal < {s['goal_s']} s: {'met' if s['met'] else 'MISSED'}"
        )
    if "memory" in record:
        m = record["memory"]
        print(
            f"peak RSS, fresh process: {m['run_result_peak_rss_mb']:.0f} MiB (RunResult), "
            f"{m['rusage_children_max_rss_mb']:.0f} MiB (getrusage); goal < "
            f"{m['goal_mb']:.0f} MiB: {'met' if m['met'] else 'MISSED'}"
        )
    if "learnability" in record:
        learn = record["learnability"]
        b = learn["baselines"]
        for name in ("reasonable", "bad"):
            r = learn[name]
            print(f"{name:10s} dev micro-F1 {r['micro_f1']:6.2f}  AUPRC {r['auprc']:6.2f}")
            print(f"  reproduce: {r['command']}")
        print(f"always {b['majority_label']}: micro-F1 {b['majority_label_micro_f1']:.2f}")
        print(
            f"always {b['majority_relation']} (the majority relation): micro-F1 "
            f"{b['majority_relation_micro_f1']:.2f}"
        )
        print(
            f"random scores: AUPRC {b['random_scores_auprc']:.2f}; the train label prior for "
            f"every example (a constant): AUPRC {b['constant_prior_auprc']:.2f} (KLUE's "
            "trapezoid AUPRC gives ties (1 + p) / 2 per class)"
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cache_dir = args.cache_dir or cache_root()
    if args.child_trial is not None:
        print(json.dumps(child_trial(cache_dir, args.child_trial)))
        return 0
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise UserError(f"--parts: {unknown[0]!r} is not one of {', '.join(PARTS)}")
    if args.warm_calls < 1 or args.memory_steps < 1:
        raise UserError("--warm_calls and --memory_steps: must be at least 1")
    record: dict[str, Any] = {"benchmark": "trial_costs"}
    load_start = harness.load_average()
    started = time.perf_counter()
    data = harness.sample_data(cache_dir)
    Workspace(cache_dir).model_path("tiny", data)  # built here, so the child only loads it
    if "memory" in parts:  # first: no other child (git, for versions) has run yet
        record["memory"] = measure_memory(cache_dir, args.memory_steps, args.threads)
    if "startup" in parts:
        record["startup"] = measure_startup(data, cache_dir, args.warm_calls + 1)
    if "learnability" in parts:
        record["learnability"] = measure_learnability(data, cache_dir)
    record["machine"] = harness.machine_record(load_start, torch.get_num_threads())
    record["wall_seconds"] = round(time.perf_counter() - started, 1)
    out = harness.save_result(args.out, record)
    print()
    print_summary(record)
    harness.print_closing(record["machine"], out)
    return 0


if __name__ == "__main__":
    run_main(main)

"""The GPU paths in one command: mixed precision, several GPUs, out-of-memory halving.

    python bench/gpu_check.py                      # on a machine with CUDA GPUs
    python bench/gpu_check.py --steps 3 --repeats 1 --out /tmp/gpu_check.json   # a quick look

Three parts, each printed with what it measured or why it was skipped:

1. ``precision``: examples/s of this project's loop (``fine_tune``) and of transformers' Trainer
   on the tiny model and the built-in sample data, batch 32, in fp32, fp16 and (where the GPU has
   it) bf16, interleaved, medians; prints fp16/fp32 and bf16/fp32 for each, and ours/Trainer at
   each precision. On CPU only fp32 runs (mixed precision needs CUDA).
2. ``search``: ``python -m search.run --devices 0,1`` (``--devices 0`` with one GPU) with the tiny
   model, 4 trials: exit 0, every finished trial ran on CUDA, one worker per device. Skipped on
   CPU (``--devices`` takes GPU indices).
3. ``oom``: a run whose first micro-batch of 32 raises ``torch.OutOfMemoryError`` once (forced, so
   the check does not depend on the card's memory): the loop halves the micro-batch to 16 and the
   run finishes its steps. Runs on the GPU where there is one, else on CPU.

Saves JSON in bench/results/gpu_check.json (or ``--out``).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a benchmark never reaches the hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import harness
import hf_trainer
import throughput
import torch
from transformers import DataCollatorWithPadding, TrainingArguments

from common._cli import quiet_libraries
from common._paths import cache_root
from objectives._hparams import HParams, RunSettings
from objectives.models._loading import load_model
from objectives.training import _loop as loop

PRECISIONS = {"fp32": "no", "fp16": "fp16", "bf16": "bf16"}  # ours -> RunSettings.precision


def precisions(cuda: bool) -> tuple[list[str], dict[str, str]]:
    """(the precisions to measure, skipped precision -> why)."""
    if not cuda:
        return ["fp32"], {p: "no CUDA device (mixed precision needs one)" for p in ("fp16", "bf16")}
    if torch.cuda.is_bf16_supported():
        return ["fp32", "fp16", "bf16"], {}
    return ["fp32", "fp16"], {"bf16": f"{torch.cuda.get_device_name(0)} has no bf16"}


def _hparams(setup: throughput.Setup, steps: int, seed: int) -> HParams:
    n = len(setup.data.train.examples)
    epochs = harness.epochs_for_steps(n, throughput.BATCH, steps)
    return HParams(
        per_device_train_batch_size=throughput.BATCH,
        max_len=throughput.MAX_LEN,
        markers=throughput.MARKERS,
        pooling="cls",
        num_train_epochs=epochs,
        seed=seed,
    )


def run_ours(setup: throughput.Setup, steps: int, seed: int, device: str, precision: str):
    settings = RunSettings(device=device, precision=PRECISIONS[precision], eval_steps=10**9,
                           cache_dir=setup.cache_dir)  # fmt: skip
    result = loop.fine_tune(_hparams(setup, steps, seed), settings, setup.data, None,
                            setup.workspace)  # fmt: skip
    examples = throughput.examples_seen(len(setup.data.train.examples), throughput.BATCH, steps)
    return examples / result.timings["train"], result


def run_trainer(setup, steps: int, seed: int, dataset, cuda: bool, precision: str) -> float:
    hf_trainer.fresh_accelerate_state()
    torch.manual_seed(seed)
    model = load_model(setup.model_path, len(setup.data.labels), setup.tokenizer)
    with tempfile.TemporaryDirectory(prefix="gpu-check-trainer-") as out:
        args = TrainingArguments(
            output_dir=out, save_strategy="no", logging_strategy="no", report_to=[],
            disable_tqdm=True, dataloader_num_workers=0, use_cpu=not cuda, seed=seed,
            per_device_train_batch_size=throughput.BATCH, max_steps=steps, learning_rate=5e-5,
            train_sampling_strategy="group_by_length", eval_strategy="no",
            fp16=precision == "fp16", bf16=precision == "bf16",
        )  # fmt: skip
        collator = DataCollatorWithPadding(setup.tokenizer)
        trainer = hf_trainer.quiet_trainer(
            model=model, args=args, train_dataset=dataset, data_collator=collator,
            processing_class=setup.tokenizer,
        )  # fmt: skip
        seconds = trainer.train().metrics["train_runtime"]
    return throughput.examples_seen(len(dataset), throughput.BATCH, steps) / seconds


def check_precision(setup, steps: int, repeats: int, cuda: bool) -> dict[str, Any]:
    measured, skipped = precisions(cuda)
    device = "cuda" if cuda else "cpu"
    dataset = throughput.TokenDataset(
        throughput.features(setup, throughput.MAX_LEN), setup.tokenizer.pad_token_id
    )
    speeds: dict[str, list[float]] = {f"{who}_{p}": [] for p in measured for who in ("ours", "hf")}
    for r in range(repeats):
        for p in measured:
            speeds[f"ours_{p}"].append(run_ours(setup, steps, 42 + r, device, p)[0])
            speeds[f"hf_{p}"].append(run_trainer(setup, steps, 42 + r, dataset, cuda, p))
    medians = {key: round(statistics.median(v), 2) for key, v in speeds.items()}
    ratios = {f"ours/hf {p}": round(medians[f"ours_{p}"] / medians[f"hf_{p}"], 3) for p in measured}
    for p in measured[1:]:
        for who in ("ours", "hf"):
            ratios[f"{who} {p}/fp32"] = round(medians[f"{who}_{p}"] / medians[f"{who}_fp32"], 3)
    return {"examples_per_s": medians, "ratios": ratios, "skipped": skipped, "device": device}


def check_search(gpus: int, cwd: Path) -> dict[str, Any]:
    if gpus == 0:
        return {"skipped": "no CUDA device (--devices takes GPU indices)"}
    import optuna

    from search._attrs import trial_record

    devices = "0,1" if gpus >= 2 else "0"
    storage = f"sqlite:///{cwd / 'gpu-check.db'}"
    command = [sys.executable, "-m", "search.run", "--trials", "4", "--devices", devices,
               "--storage", storage, "--study", "gpu-check", "--quiet"]  # fmt: skip
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return {"devices": devices, "ok": False, "error": done.stderr[-2000:]}
    study = optuna.load_study(study_name="gpu-check", storage=storage)
    finished = [t for t in study.trials if t.state.is_finished() and t.values]
    runtimes = [trial_record(t, "runtime") for t in finished]
    on_cuda = all(r.get("device") == "cuda" for r in runtimes)
    workers = {t.user_attrs.get("worker") for t in study.trials}
    # each worker on a GPU of its own: the trials saw every asked device, one per worker
    gpus = sorted({str((r.get("gpu") or {}).get("visible_devices")) for r in runtimes})
    ok = on_cuda and len(workers) == len(devices.split(",")) and gpus == devices.split(",")
    return {
        "devices": devices,
        "ok": ok,
        "trials": len(finished),
        "workers": len(workers),
        "gpus_seen": gpus,
    }


def check_oom(setup, cuda: bool) -> dict[str, Any]:
    """Forced out-of-memory at the first full micro-batch: halved once, and the run finishes."""
    original, raised = loop.focal_loss, []

    def failing_once(logits, labels, *args, **kwargs):
        if not raised and labels.shape[0] > throughput.BATCH // 2:
            raised.append(labels.shape[0])
            raise torch.OutOfMemoryError("forced by bench/gpu_check.py")
        return original(logits, labels, *args, **kwargs)

    loop.focal_loss = failing_once
    try:
        _, result = run_ours(setup, 4, 0, "cuda" if cuda else "cpu", "fp32")
    finally:
        loop.focal_loss = original
    ok = raised == [throughput.BATCH] and result.micro_batch_size == throughput.BATCH // 2
    return {
        "device": "cuda" if cuda else "cpu",
        "ok": ok and result.steps == 4,
        "micro_batch": [throughput.BATCH, result.micro_batch_size],
        "steps": result.steps,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--out", type=Path, default=harness.RESULTS / "gpu_check.json")
    args = parser.parse_args()
    load = harness.load_average()
    quiet_libraries()
    cuda = torch.cuda.is_available()
    gpus = torch.cuda.device_count() if cuda else 0
    print(f"CUDA: {f'{gpus} GPU(s), {torch.cuda.get_device_name(0)}' if cuda else 'none'}")
    setup = throughput.prepare(cache_root())
    record: dict[str, Any] = {"precision": check_precision(setup, args.steps, args.repeats, cuda)}
    print_part("precision", record["precision"])
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        record["search"] = check_search(gpus, Path(tmp))
    print_part("search", record["search"])
    record["oom"] = check_oom(setup, cuda)
    print_part("oom", record["oom"])
    record["settings"] = vars(args) | {"out": str(args.out)}
    record["machine"] = harness.machine_record(load)
    harness.print_closing(record["machine"], harness.save_result(args.out, record))
    failed = [name for name in ("search", "oom") if record[name].get("ok") is False]
    return 1 if failed else 0


def print_part(name: str, part: dict[str, Any]) -> None:
    if "skipped" in part and len(part) == 1:
        print(f"{name}: SKIPPED: {part['skipped']}")
        return
    shown = {k: v for k, v in part.items() if k != "skipped"}
    print(f"{name}: {shown}")
    for what, why in part.get("skipped", {}).items():
        print(f"{name}: SKIPPED {what}: {why}")


if __name__ == "__main__":
    sys.exit(main())

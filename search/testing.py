"""A fake trial with the real one's shape, for testing a search without training: the service's
own tests and benchmarks use it, and so can a user's tests of their own spaces and settings.

``fake_fine_tune`` has ``objectives.training.loop.fine_tune``'s signature and contract: the same
hyperparameters, the same evaluation schedule (steps from the data size, batch size and epochs),
both metrics at every evaluation through ``report``, early stop when ``report`` says so, and a
:class:`~objectives.training.loop.RunResult`. Its learning curves come from a smooth function of the
hyperparameters with a real trade-off between F1 and AUPRC, so samplers and pruners have
something to find. Use it as ``search.run --runner search.testing:fake_fine_tune`` (``RUNNER``);
the JSON object in the environment variable ``RE_SEARCH_FAKE_RUN`` (``ENV``; :func:`fake_env`
builds an environment with it) tunes it:

- ``seconds_per_eval``: wall time spent per evaluation interval (default 0);
- ``fail_rate``: chance that a trial raises (a crashed run);
- ``diverge_lr``: learning rates above it end with a non-finite loss;
- ``noise``: standard deviation of the final metrics' noise (default 0.5 points).

Its dev and test logits (see :func:`fake_logits`) are deterministic per configuration, so the
stored predictions and an ensemble of them can be tested without training.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time

import numpy as np

from objectives.data.inputs import TrialData
from objectives.hparams import HParams, RunSettings
from objectives.training.cadence import evaluation_steps
from objectives.training.loop import Report, RunResult

RUNNER = "search.testing:fake_fine_tune"
ENV = "RE_SEARCH_FAKE_RUN"


def fake_env(**settings: float) -> dict[str, str]:
    """This process's environment with the fake's settings, for a subprocess that runs it."""
    return {**os.environ, ENV: json.dumps(settings)}


def fake_settings() -> dict[str, float]:
    return json.loads(os.environ.get(ENV) or "{}")


class FakeTrialCrashed(RuntimeError):
    """What a fake crash raises (a bug in a real run, from the worker's point of view)."""


def quality(hp: HParams) -> tuple[float, float]:
    """Final (micro-F1, AUPRC) of a configuration, before noise: best near lr 3e-4, warm-up 0.1,
    focal gamma 1 (helps F1 more than AUPRC), max_len 128, batch 32."""
    lr = math.exp(-((math.log10(hp.learning_rate) - math.log10(3e-4)) ** 2) / 0.5)
    warmup = math.exp(-((hp.warmup_ratio - 0.1) ** 2) / 0.05)
    epochs = 1 - math.exp(-hp.num_train_epochs / 1.5)
    batch = math.exp(-((math.log2(hp.per_device_train_batch_size) - 5) ** 2) / 4)
    length = {64: 0.85, 128: 1.0, 256: 0.98}.get(hp.max_len, 0.9)
    gamma_f1 = math.exp(-((hp.focal_gamma - 1.0) ** 2) / 2)
    gamma_auprc = math.exp(-((hp.focal_gamma - 0.3) ** 2) / 3)
    base = lr * warmup * epochs * batch * length
    f1 = 20 + 65 * base * (0.8 + 0.2 * gamma_f1)
    auprc = 15 + 70 * base * (0.8 + 0.2 * gamma_auprc) * (1 - 0.3 * hp.label_smoothing_factor)
    return f1, auprc


def fake_fine_tune(
    hp: HParams,
    settings: RunSettings,
    data: TrialData,
    report: Report | None = None,
    workspace: object | None = None,
) -> RunResult:
    """Walk the real schedule, reporting a synthetic curve; see the module docstring."""
    extra = fake_settings()
    seed = int(hashlib.sha256(repr(sorted(hp.to_dict().items())).encode()).hexdigest()[:8], 16)
    rng = random.Random(seed)
    if rng.random() < float(extra.get("fail_rate", 0.0)):
        raise FakeTrialCrashed(f"fake crash (lr={hp.learning_rate:.2e})")
    report = report or (lambda step, metrics: True)
    examples = _examples(hp, data)
    steps_per_epoch = math.ceil(examples["train"] / hp.per_device_train_batch_size)
    total = max(1, math.ceil(steps_per_epoch * hp.num_train_epochs))
    noise = float(extra.get("noise", 0.5))
    final_f1, final_auprc = quality(hp)
    final_f1 += rng.gauss(0, noise)
    final_auprc += rng.gauss(0, noise)
    pause = float(extra.get("seconds_per_eval", 0.0))
    diverge_lr = float(extra.get("diverge_lr", math.inf))

    evaluations: list[dict[str, float]] = []
    status, reason, step, best = "complete", None, 0, None
    started = time.perf_counter()
    reporting = 0.0
    schedule = evaluation_steps(
        total,
        steps_per_epoch,
        settings.eval_steps,
        settings.evals_per_epoch,
        settings.evals_per_run,
    )
    for step in schedule:
        if pause:
            time.sleep(pause)
        if hp.learning_rate > diverge_lr:
            status, reason = "diverged", f"non-finite training loss at step {step}"
            break
        progress = 1 - math.exp(-4 * step / total)
        metrics = {
            "micro_f1": final_f1 * progress,
            "auprc": final_auprc * progress,
            "accuracy": min(100.0, 30 + final_f1 * progress * 0.7),
            "loss": 3.4 * (1 - progress) + 0.4,
        }
        seconds = time.perf_counter() - started - reporting
        seen = step * hp.per_device_train_batch_size
        evaluations.append(
            {"step": step, "epoch": step / steps_per_epoch, "seconds": seconds, "examples": seen}
            | metrics
        )
        if best is None or metrics["micro_f1"] > best["micro_f1"]:
            best = {"step": step, **metrics}
        t = time.perf_counter()
        keep_going = report(step, dict(metrics))
        reporting += time.perf_counter() - t
        if not keep_going:
            status, reason = "stopped", f"stopped by the search at step {step}"
            break
    elapsed = time.perf_counter() - started - reporting
    best = best or {"step": step}
    best_step = int(best.pop("step"))
    dev_logits, test_logits = fake_logits(data, seed, final_f1)
    return RunResult(
        status=status,
        reason=reason,
        metrics=best,
        best_step=best_step,
        steps=step,
        total_steps=total,
        evaluations=evaluations,
        timings={
            "tokenize": 0.0,
            "train": elapsed,
            "eval": 0.0,
            "report": reporting,
            "startup": 0.0,
        },
        memory={"process_peak_rss_mb": 0.0},
        micro_batch_size=hp.per_device_train_batch_size,
        examples=examples,
        dev_logits=dev_logits if best else None,
        test_logits=test_logits if best else None,
    )


def _examples(hp: HParams, data: TrialData) -> dict[str, int]:
    """Train and dev sizes as the real run reports them: augmentation adds its expected number
    of copies to train (entity swap and AEDA at their probabilities; marker dropout adds none)."""
    n = len(data.train)
    examples = {"train": n, "dev": len(data.dev)}
    if hp.augmentation() is not None:
        swap, aeda = round(n * hp.aug_entity_swap), round(n * hp.aug_aeda)
        examples["train"] = n + swap + aeda
        examples.update(
            train_entity_swap=swap,
            train_aeda=aeda,
            train_marker_dropout=round((n + swap + aeda) * hp.aug_marker_dropout),
        )
    return examples


def fake_logits(data: TrialData, seed: int, f1: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Deterministic dev and test logits: noise, plus on dev a push towards the gold label that
    grows with the trial's F1, so better trials predict better and trials err differently."""
    rng = np.random.default_rng(seed)
    n_labels = len(data.labels)
    # noise shared by every trial plus the trial's own: ensembles help, but not without limit
    shared = np.random.default_rng(0).normal(size=(len(data.dev), n_labels))
    dev = 0.8 * shared + 0.6 * rng.normal(size=(len(data.dev), n_labels))
    gold = [data.labels.id(ex.label) for ex in data.dev.examples]
    dev[np.arange(len(gold)), gold] += 3.0 * max(f1, 0.0) / 100.0
    test = None
    if data.test is not None:
        test = rng.normal(size=(len(data.test), n_labels)).astype(np.float32)
    return dev.astype(np.float32), test

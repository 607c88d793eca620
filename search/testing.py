"""A fake trial with the real one's shape, for testing a search without training: the service's
own tests and benchmarks use it, and so can a user's tests of their own spaces and settings.

``fake_fine_tune`` has ``objectives.training._loop.fine_tune``'s signature and contract: the same
hyperparameters, the same evaluation schedule (steps from the data size, batch size and epochs),
both metrics at every evaluation through ``report``, early stop when ``report`` says so, and a
:class:`~objectives.training.RunResult`. Its learning curves come from a smooth function of the
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

from objectives._hparams import HParams, RunSettings
from objectives.data._inputs import TrialData
from objectives.training._cadence import evaluation_steps
from objectives.training._loop import Report, RunResult

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
    examples = _examples(hp, data)
    steps_per_epoch = math.ceil(examples["train"] / hp.per_device_train_batch_size)
    total = max(1, math.ceil(steps_per_epoch * hp.num_train_epochs))
    noise = float(extra.get("noise", 0.5))
    final_f1, final_auprc = quality(hp)
    finals = (final_f1 + rng.gauss(0, noise), final_auprc + rng.gauss(0, noise))
    run = _Walk(hp, extra, finals, total, steps_per_epoch)
    run.walk(settings, report or (lambda step, metrics: True))
    best = run.best or {"step": run.step}
    best_step = int(best.pop("step"))
    dev_logits, test_logits = fake_logits(data, seed, finals[0])
    return RunResult(
        status=run.status,
        reason=run.reason,
        metrics=best,
        best_step=best_step,
        steps=run.step,
        total_steps=total,
        evaluations=run.evaluations,
        timings={
            "tokenize": 0.0,
            "train": run.elapsed,
            "eval": 0.0,
            "report": run.reporting,
            "startup": 0.0,
        },
        memory={"process_peak_rss_mb": 0.0},
        micro_batch_size=hp.per_device_train_batch_size,
        examples=examples,
        dev_logits=dev_logits if run.best else None,
        test_logits=test_logits if run.best else None,
    )


class _Walk:
    """One fake run along its evaluation schedule: its curve, its best evaluation, its end."""

    def __init__(self, hp: HParams, extra, finals, total: int, steps_per_epoch: int) -> None:
        self.hp, self.finals, self.total, self.per_epoch = hp, finals, total, steps_per_epoch
        self.pause = float(extra.get("seconds_per_eval", 0.0))
        self.diverge_lr = float(extra.get("diverge_lr", math.inf))
        self.evaluations: list[dict[str, float]] = []
        self.status, self.reason, self.step = "complete", None, 0
        self.best: dict[str, float] | None = None
        self.elapsed = self.reporting = 0.0

    def walk(self, settings: RunSettings, report: Report) -> None:
        """Evaluate at the real run's steps for ``settings``, asking ``report`` each time."""
        s = settings
        schedule = evaluation_steps(
            self.total, self.per_epoch, s.eval_steps, s.evals_per_epoch, s.evals_per_run
        )
        started = time.perf_counter()
        for self.step in schedule:
            if self.pause:
                time.sleep(self.pause)
            if self.hp.learning_rate > self.diverge_lr:
                self.status = "diverged"
                self.reason = f"non-finite training loss at step {self.step}"
                break
            metrics = self.metrics(self.step)
            seconds = time.perf_counter() - started - self.reporting
            seen = self.step * self.hp.per_device_train_batch_size
            self.evaluations.append(
                {"step": self.step, "epoch": self.step / self.per_epoch}
                | {"seconds": seconds, "examples": seen}
                | metrics
            )
            if self.best is None or metrics["micro_f1"] > self.best["micro_f1"]:
                self.best = {"step": self.step, **metrics}
            t = time.perf_counter()
            keep_going = report(self.step, dict(metrics))
            self.reporting += time.perf_counter() - t
            if not keep_going:
                self.status, self.reason = "stopped", f"stopped by the search at step {self.step}"
                break
        self.elapsed = time.perf_counter() - started - self.reporting

    def metrics(self, step: int) -> dict[str, float]:
        """The curve at ``step``: both objectives approach their final values."""
        progress = 1 - math.exp(-4 * step / self.total)
        f1, auprc = self.finals
        return {
            "micro_f1": f1 * progress,
            "auprc": auprc * progress,
            "accuracy": min(100.0, 30 + f1 * progress * 0.7),
            "loss": 3.4 * (1 - progress) + 0.4,
        }


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

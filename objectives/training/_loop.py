"""One fine-tuning run: the thing a trial does, and what ``objectives.finetune`` runs alone.

The run knows nothing of a study. It gets plain hyperparameters and settings, the data, and a
``report(step, metrics) -> keep_going`` callback; a search decides what to do with each
evaluation, and the run stops when told to.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed

from common._bars import progress_bar
from common._cli import UserError
from objectives._hparams import HParams, RunSettings
from objectives._loss import focal_loss
from objectives._metrics import evaluate
from objectives.data._inputs import TrialData
from objectives.data._labels import LabelSet
from objectives.encoding._batching import collate, eval_batches, split, train_batches
from objectives.encoding._features import Features
from objectives.models._heads import build_classifier, save_classifier
from objectives.models._loading import max_positions
from objectives.training._accelerator import MemoryMeter, new_accelerator, release_accelerator
from objectives.training._cadence import evaluation_steps
from objectives.training._optimizer import build_optimizer
from objectives.training._result import Evaluation, History, Report, RunResult
from objectives.training._workspace import Workspace

__all__ = ["Evaluation", "Report", "RunResult", "Workspace", "fine_tune"]


def fine_tune(
    hp: HParams,
    settings: RunSettings,
    data: TrialData,
    report: Report | None = None,
    workspace: Workspace | None = None,
) -> RunResult:
    """Fine-tune ``settings.model`` on ``data.train`` with ``hp``, evaluating on ``data.dev``."""
    started = time.perf_counter()
    workspace = workspace or Workspace(settings.cache_dir)
    report = report or (lambda step, metrics: True)
    meter = MemoryMeter()
    timings = {"tokenize": 0.0, "train": 0.0, "eval": 0.0, "report": 0.0}

    model_path = workspace.model_path(settings.model, data)
    limit = max_positions(model_path)
    if hp.max_len > limit:
        raise UserError(f"--max_len: {hp.max_len} is beyond what {settings.model} takes ({limit})")
    tokenizer = workspace.tokenizer(model_path, hp.markers)

    t = time.perf_counter()
    train, added = workspace.train_features(hp, data, tokenizer)
    dev = workspace.features.get(data.dev, tokenizer, hp.markers, hp.max_len, data.labels)
    test = None
    if data.test is not None:
        test = workspace.features.get(data.test, tokenizer, hp.markers, hp.max_len, None)
    timings["tokenize"] = time.perf_counter() - t

    accelerator = new_accelerator(settings)
    set_seed(hp.seed)
    model = build_classifier(model_path, data.labels, hp.pooling, tokenizer)
    loop = _Loop(hp, settings, accelerator, model, tokenizer.pad_token_id, train, data.labels)
    try:
        result = loop.run(dev, test, report, timings, started)
        if settings.save_checkpoint and settings.output_dir and loop.best_state is not None:
            model = accelerator.unwrap_model(loop.model)
            model.load_state_dict(loop.best_state)
            result.checkpoint = save_classifier(
                model, tokenizer, data.labels, settings.output_dir / "checkpoint"
            )
    finally:
        loop.release()
        release_accelerator(accelerator)
    result.memory = meter.peak()
    result.truncated_entities = {"train": train.truncated_entities, "dev": dev.truncated_entities}
    result.examples = {"train": len(train), "dev": len(dev), **added}
    return result


class _Loop:
    """The optimizer loop of one run (state that lives exactly as long as the run)."""

    def __init__(self, hp, settings, accelerator, model, pad_id, train, labels) -> None:
        self.hp: HParams = hp
        self.settings: RunSettings = settings
        self.accelerator: Accelerator = accelerator
        self.labels: LabelSet = labels
        self.pad_id = pad_id if pad_id is not None else 0
        self.train: Features = train
        self.multiple_of = 8 if accelerator.device.type == "cuda" else 1
        # transformers' meaning: an optimizer step over the batch size times the accumulation
        self.batch_size = hp.per_device_train_batch_size * hp.gradient_accumulation_steps
        per_pass = hp.per_device_train_batch_size
        self.micro = min(per_pass, settings.max_micro_batch_size or per_pass)
        self.steps_per_epoch = math.ceil(len(train) / self.batch_size)
        self.total_steps = max(1, math.ceil(self.steps_per_epoch * hp.num_train_epochs))
        self.eval_at = frozenset(
            evaluation_steps(
                self.total_steps,
                self.steps_per_epoch,
                settings.eval_steps,
                settings.evals_per_epoch,
                settings.evals_per_run,
            )
        )
        optimizer, scheduler = build_optimizer(model, hp, self.total_steps)
        self.model, self.optimizer, self.scheduler = accelerator.prepare(
            model, optimizer, scheduler
        )
        self.generator = torch.Generator().manual_seed(hp.seed)
        self.step = self.seen = 0
        self.best_state = None

    def run(self, dev, test, report: Report, timings, started) -> RunResult:
        history = History(keep_state=test is not None or self.settings.save_checkpoint)
        clock = _Clock(timings, started)
        bar = progress_bar(
            total=self.total_steps, disable=not self.settings.progress, desc="train", unit="step"
        )
        try:
            status, reason = self._train(dev, report, history, clock, bar)
        finally:
            bar.close()
        clock.close()
        best = history.best_or_empty(self.step, self.steps_per_epoch)
        test_logits = None
        if test is not None and best.metrics:
            if history.best_state is not None and not history.best_is_last():
                self.accelerator.unwrap_model(self.model).load_state_dict(history.best_state)
            test_logits = self._predict(test)
        self.best_state = history.best_state
        return RunResult(
            status=status,
            reason=reason,
            metrics=dict(best.metrics),
            best_step=best.step,
            steps=self.step,
            total_steps=self.total_steps,
            evaluations=history.rows(),
            timings={k: round(v, 4) for k, v in timings.items()},
            memory={},
            micro_batch_size=self.micro,
            dev_logits=best.logits if best.metrics else None,
            test_logits=test_logits,
        )

    def _train(self, dev, report: Report, history: History, clock: _Clock, bar):
        """Step until the schedule ends, the loss diverges or the report says stop."""
        while self.step < self.total_steps:
            for indices in train_batches(self.train, self.batch_size, self.generator):
                loss = self._step(indices)
                self.step += 1
                self.seen += len(indices)
                bar.update(1)
                clock.stepped()
                if not math.isfinite(loss):
                    return "diverged", f"non-finite training loss at step {self.step}"
                if self.step in self.eval_at:
                    evaluation = self._evaluate(dev, self.step, clock)
                    history.add(evaluation, self.model)
                    bar.set_postfix(f1=f"{evaluation.metrics['micro_f1']:.1f}")
                    with clock.measure("report"):
                        keep_going = report(self.step, dict(evaluation.metrics))
                    if not keep_going:
                        return "stopped", f"stopped by the search at step {self.step}"
                if self.step >= self.total_steps:
                    break
        return "complete", None

    def _step(self, indices: np.ndarray) -> float:
        """One optimizer step over ``indices``; on out-of-memory, halve the micro-batch and redo."""
        self.model.train()
        while True:
            try:
                loss = self._accumulate(indices)
                break
            except torch.OutOfMemoryError:
                self.optimizer.zero_grad(set_to_none=True)
                gc.collect()
                torch.cuda.empty_cache()
                if self.micro == 1:
                    raise
                self.micro = max(1, self.micro // 2)
        if math.isfinite(loss):
            if self.hp.max_grad_norm > 0:
                self.accelerator.clip_grad_norm_(self.model.parameters(), self.hp.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss

    def _accumulate(self, indices: np.ndarray) -> float:
        """Gradients of the mean loss over ``indices``, summed over micro-batches."""
        total = 0.0
        device = self.accelerator.device
        for part in split(indices, self.micro):
            batch = collate(self.train, part, self.pad_id, self.multiple_of)
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            labels = batch.pop("labels")
            logits = self.model(**batch)
            loss = focal_loss(
                logits,
                labels,
                gamma=self.hp.focal_gamma,
                label_smoothing=self.hp.label_smoothing_factor,
                reduction="sum",
            ) / len(indices)
            self.accelerator.backward(loss)
            total += loss.item()
        return total

    @torch.no_grad()
    def _predict(self, features: Features) -> np.ndarray:
        self.model.eval()
        device = self.accelerator.device
        logits = np.zeros((len(features), len(self.labels)), dtype=np.float32)
        for indices in eval_batches(features, self.settings.eval_batch_size):
            batch = collate(features, indices, self.pad_id, self.multiple_of)
            batch.pop("labels")
            batch = {k: v.to(device) for k, v in batch.items()}
            with self.accelerator.autocast():
                out = self.model(**batch)
            logits[indices] = out.float().cpu().numpy()
        return logits

    def _evaluate(self, dev: Features, step: int, clock: _Clock) -> Evaluation:
        with clock.measure("eval"):
            logits = self._predict(dev)
            gold = dev.labels
            loss = float(
                torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(gold))
            )
            metrics = evaluate(logits, gold, self.labels, loss=loss)
        epoch = round(step / self.steps_per_epoch, 4)
        return Evaluation(step, epoch, metrics, logits, clock.training(), self.seen)

    def release(self) -> None:
        for name in ("model", "optimizer", "scheduler"):
            if hasattr(self, name):
                delattr(self, name)


class _Clock:
    """Where a run's wall time went: training, evaluation, and the search's work at each
    evaluation (storage writes, pruning decisions), kept apart so that the service's cost is
    not hidden in training or evaluation."""

    def __init__(self, timings: dict[str, float], started: float) -> None:
        self.timings = timings
        self.started = started
        self.train_started = time.perf_counter()
        self.startup: float | None = None

    def stepped(self) -> None:
        if self.startup is None:
            self.startup = time.perf_counter() - self.started

    @contextmanager
    def measure(self, part: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[part] += time.perf_counter() - t

    def training(self) -> float:
        """Wall seconds since training started, evaluations in, the search's work out."""
        return time.perf_counter() - self.train_started - self.timings["report"]

    def close(self) -> None:
        spent = time.perf_counter() - self.train_started
        self.timings["train"] = spent - self.timings["eval"] - self.timings["report"]
        self.timings["startup"] = self.startup or 0.0

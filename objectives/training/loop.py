"""One fine-tuning run: the thing a trial does, and what ``objectives.finetune`` runs alone.

The run knows nothing of a study. It gets plain hyperparameters and settings, the data, and a
``report(step, metrics) -> keep_going`` callback; a search decides what to do with each
evaluation, and the run stops when told to.
"""

from __future__ import annotations

import gc
import math
import time

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from transformers import get_scheduler

from common.bars import progress_bar
from common.cli import UserError
from objectives.data.augment import augment_train
from objectives.data.inputs import TrialData
from objectives.data.labels import LabelSet
from objectives.encoding.batching import collate, eval_batches, split, train_batches
from objectives.encoding.features import Features, encode
from objectives.hparams import HParams, RunSettings
from objectives.loss import focal_loss
from objectives.metrics import evaluate
from objectives.models.heads import build_classifier, save_classifier
from objectives.models.loading import max_positions
from objectives.training.accelerator import new_accelerator, release_accelerator
from objectives.training.cadence import evaluation_steps
from objectives.training.resources import MemoryMeter
from objectives.training.result import Evaluation, Report, RunResult
from objectives.training.workspace import Workspace

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
    train, added = _train_features(hp, data, tokenizer, workspace)
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


def _train_features(
    hp: HParams, data: TrialData, tokenizer, workspace: Workspace
) -> tuple[Features, dict[str, int]]:
    """The train set's features, augmented when ``hp`` says so (dev and test never are), and
    how many examples each augmentation added or changed (``train_entity_swap``, ...).

    Augmented data is drawn once per run from ``hp.seed``, so the step schedule is fixed before
    training starts, and tokenized for this run alone, bypassing the feature cache: it depends on
    the seed and the probabilities, which differ from trial to trial in a search that varies
    them, so a cached entry would rarely be read again and would only fill memory and disk.
    """
    augmentation = hp.augmentation()
    if augmentation is None:
        features = workspace.features.get(
            data.train, tokenizer, hp.markers, hp.max_len, data.labels
        )
        return features, {}
    augmented = augment_train(data.train, **augmentation)
    features = encode(
        augmented.dataset, tokenizer, hp.markers, hp.max_len, data.labels, augmented.unmarked
    )
    return features, {f"train_{name}": count for name, count in augmented.added.items()}


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
        # fused: one kernel for all parameters; the default is a per-parameter Python loop on the
        # CPU (about a tenth of a tiny model's step), and transformers' Trainer fuses too
        optimizer = torch.optim.AdamW(
            _param_groups(model, hp.weight_decay), lr=hp.learning_rate, fused=True
        )
        scheduler = get_scheduler(
            hp.lr_scheduler_type,
            optimizer,
            num_warmup_steps=hp.warmup(self.total_steps),
            num_training_steps=self.total_steps,
        )
        self.model, self.optimizer, self.scheduler = accelerator.prepare(
            model, optimizer, scheduler
        )
        self.generator = torch.Generator().manual_seed(hp.seed)

    def run(self, dev, test, report: Report, timings, started) -> RunResult:
        evaluations: list[Evaluation] = []
        best: Evaluation | None = None
        best_state = None
        keep_best_state = test is not None or self.settings.save_checkpoint
        status, reason, step, seen = "complete", None, 0, 0
        bar = progress_bar(
            total=self.total_steps, disable=not self.settings.progress, desc="train", unit="step"
        )
        train_started = time.perf_counter()
        startup = None
        while step < self.total_steps and status == "complete":
            for indices in train_batches(self.train, self.batch_size, self.generator):
                loss = self._step(indices)
                step += 1
                seen += len(indices)
                bar.update(1)
                if startup is None:
                    startup = time.perf_counter() - started
                if not math.isfinite(loss):
                    status, reason = "diverged", f"non-finite training loss at step {step}"
                    break
                if step in self.eval_at:
                    t = time.perf_counter()
                    evaluation = self._evaluate(dev, step)
                    timings["eval"] += time.perf_counter() - t
                    evaluation.examples = seen
                    evaluation.seconds = time.perf_counter() - train_started - timings["report"]
                    evaluations.append(evaluation)
                    bar.set_postfix(f1=f"{evaluation.metrics['micro_f1']:.1f}")
                    if best is None or _better(evaluation, best):
                        best = evaluation
                        if keep_best_state:
                            best_state = _cpu_state(self.model)
                    t = time.perf_counter()
                    keep_going = report(step, dict(evaluation.metrics))
                    timings["report"] += time.perf_counter() - t
                    if not keep_going:
                        status, reason = "stopped", f"stopped by the search at step {step}"
                        break
                if step >= self.total_steps:
                    break
        bar.close()
        # the search's bookkeeping at each evaluation (storage writes, pruning decisions) is
        # neither training nor evaluation: kept apart so the service's cost is not hidden in them
        timings["train"] = time.perf_counter() - train_started - timings["eval"] - timings["report"]
        timings["startup"] = startup or 0.0
        if best is None:  # diverged before the first evaluation
            best = Evaluation(step, step / self.steps_per_epoch, {}, np.empty((0, 0)))
        test_logits = None
        if test is not None and best.metrics:
            if best_state is not None and best is not evaluations[-1]:
                self.accelerator.unwrap_model(self.model).load_state_dict(best_state)
            test_logits = self._predict(test)
        self.best_state = best_state
        return RunResult(
            status=status,
            reason=reason,
            metrics=dict(best.metrics),
            best_step=best.step,
            steps=step,
            total_steps=self.total_steps,
            evaluations=[
                {
                    "step": e.step,
                    "epoch": e.epoch,
                    "seconds": round(e.seconds, 4),
                    "examples": e.examples,
                    **e.metrics,
                }
                for e in evaluations
            ],
            timings={k: round(v, 4) for k, v in timings.items()},
            memory={},
            micro_batch_size=self.micro,
            dev_logits=best.logits if best.metrics else None,
            test_logits=test_logits,
        )

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

    def _evaluate(self, dev: Features, step: int) -> Evaluation:
        logits = self._predict(dev)
        gold = dev.labels
        loss = float(
            torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(gold))
        )
        metrics = evaluate(logits, gold, self.labels, loss=loss)
        return Evaluation(step, round(step / self.steps_per_epoch, 4), metrics, logits)

    def release(self) -> None:
        for name in ("model", "optimizer", "scheduler"):
            if hasattr(self, name):
                delattr(self, name)


def _better(a: Evaluation, b: Evaluation) -> bool:
    return (a.metrics["micro_f1"], a.metrics["auprc"]) > (b.metrics["micro_f1"], b.metrics["auprc"])


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """No weight decay on biases and normalization weights, as transformers' Trainer does."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim < 2 or "norm" in name.lower() or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]

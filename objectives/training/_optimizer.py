"""The optimizer and learning-rate schedule of one run, set up as transformers' Trainer does."""

from __future__ import annotations

import torch
from transformers import get_scheduler

from objectives._hparams import HParams


def build_optimizer(model: torch.nn.Module, hp: HParams, total_steps: int) -> tuple:
    """AdamW over ``model`` with ``hp``'s weight decay, and ``hp``'s schedule over the run."""
    # fused: one kernel for all parameters; the default is a per-parameter Python loop on the
    # CPU (about a tenth of a tiny model's step), and transformers' Trainer fuses too
    optimizer = torch.optim.AdamW(
        param_groups(model, hp.weight_decay), lr=hp.learning_rate, fused=True
    )
    scheduler = get_scheduler(
        hp.lr_scheduler_type,
        optimizer,
        num_warmup_steps=hp.warmup(total_steps),
        num_training_steps=total_steps,
    )
    return optimizer, scheduler


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
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

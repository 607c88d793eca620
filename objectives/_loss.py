"""Focal loss for multi-class classification; with gamma 0 it is exactly cross-entropy.

Definition. With p = softmax(logits), C classes, per-class weights alpha (1 without), label
smoothing eps, and the smoothed target q_c = (1 - eps) * [c == y] + eps / C, example i's loss is

    loss_i = -sum_c q_c * alpha_c * (1 - p_c) ** gamma * log p_c

Without smoothing this is Lin et al.'s ``-alpha_y * (1 - p_y) ** gamma * log p_y``; with gamma 0
it is PyTorch's ``cross_entropy(weight=alpha, label_smoothing=eps, reduction="none")``, which
smooths the log-prob target the same way. The modulating factor is applied per class c, not
only with p_y: with p_y's factor alone a confident example's smoothing term vanishes with its
factor, and smoothing would stop penalising over-confidence exactly where it should.
``reduction="mean"`` divides the sum by ``sum_i alpha[y_i]`` (by n without alpha), as
``cross_entropy`` does with ``weight``, so gamma 0 matches it for every reduction.

Everything is computed in float32 whatever the dtype of the logits (fp16/bf16 under mixed
precision), and the result is float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

REDUCTIONS = ("mean", "sum", "none")


def focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float = 0.0,
    alpha: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss of ``logits`` (n, C) against class ids ``targets`` (n,); see the module doc.

    ``alpha`` is an optional per-class weight of shape (C,). Targets must be valid class ids
    (there is no ignore index).
    """
    _check_args(logits, gamma, alpha, label_smoothing, reduction)
    logits = logits.float()
    if alpha is not None:
        alpha = alpha.to(device=logits.device, dtype=torch.float32)
    if gamma == 0:
        return F.cross_entropy(
            logits, targets, weight=alpha, label_smoothing=label_smoothing, reduction=reduction
        )
    losses = _focal_terms(logits, targets, gamma, alpha, label_smoothing)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if alpha is None:
        return losses.mean()
    return losses.sum() / alpha[targets].sum()


def _focal_terms(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float,
    alpha: torch.Tensor | None,
    label_smoothing: float,
) -> torch.Tensor:
    """Unreduced loss_i for gamma > 0 (float32 logits)."""
    log_p = F.log_softmax(logits, dim=-1)
    # -expm1(log p) keeps 1 - p accurate near p = 1; the clamp keeps the gradient of
    # x ** gamma finite at x = 0 when gamma < 1 (it is infinite there, and times 0 gives NaN).
    one_minus_p = (-torch.expm1(log_p)).clamp(min=torch.finfo(torch.float32).tiny)
    terms = -one_minus_p.pow(gamma) * log_p
    if alpha is not None:
        terms = terms * alpha
    losses = terms.gather(1, targets.unsqueeze(1)).squeeze(1)
    if label_smoothing > 0:
        num_classes = logits.shape[1]
        losses = (1 - label_smoothing) * losses + label_smoothing / num_classes * terms.sum(1)
    return losses


class FocalLoss(nn.Module):
    """:func:`focal_loss` as a module; ``alpha`` is a buffer, so it follows ``.to(device)``."""

    alpha: torch.Tensor | None

    def __init__(
        self,
        gamma: float = 0.0,
        alpha: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if alpha is not None and alpha.dim() != 1:
            raise ValueError(f"alpha must be one weight per class, got shape {tuple(alpha.shape)}")
        _check_scalars(gamma, label_smoothing, reduction)
        self.gamma = gamma
        self.label_smoothing = label_smoothing
        self.reduction = reduction
        self.register_buffer(
            "alpha", None if alpha is None else alpha.detach().to(torch.float32).clone()
        )

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return focal_loss(
            logits, targets, self.gamma, self.alpha, self.label_smoothing, self.reduction
        )

    def extra_repr(self) -> str:
        smoothing = self.label_smoothing
        return f"gamma={self.gamma}, label_smoothing={smoothing}, reduction={self.reduction!r}"


def _check_args(
    logits: torch.Tensor,
    gamma: float,
    alpha: torch.Tensor | None,
    label_smoothing: float,
    reduction: str,
) -> None:
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (n, classes), got {tuple(logits.shape)}")
    if alpha is not None and tuple(alpha.shape) != (logits.shape[1],):
        raise ValueError(
            f"alpha must have shape ({logits.shape[1]},) for {logits.shape[1]} classes, "
            f"got {tuple(alpha.shape)}"
        )
    _check_scalars(gamma, label_smoothing, reduction)


def _check_scalars(gamma: float, label_smoothing: float, reduction: str) -> None:
    if not gamma >= 0.0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")

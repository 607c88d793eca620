"""What a run reports at each evaluation, the evaluations so far (the best of them and the weights
at the best), and what the run ends with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

Report = Callable[[int, dict[str, float]], bool]


@dataclass
class Evaluation:
    step: int
    epoch: float
    metrics: dict[str, float]
    logits: np.ndarray = field(repr=False)
    # the run's cost so far: wall seconds since training started (evaluations included, the
    # search's own work at each evaluation left out) and train examples stepped over
    seconds: float = 0.0
    examples: int = 0


@dataclass
class RunResult:
    """What a run ended with. ``metrics`` are those of the best evaluation (by micro-F1)."""

    status: str  # "complete", "stopped" (the report said stop) or "diverged" (non-finite loss)
    reason: str | None
    metrics: dict[str, float]
    best_step: int
    steps: int
    total_steps: int
    evaluations: list[dict[str, float]]
    timings: dict[str, float]
    memory: dict[str, float]
    micro_batch_size: int
    dev_logits: np.ndarray | None = field(default=None, repr=False)
    test_logits: np.ndarray | None = field(default=None, repr=False)
    truncated_entities: dict[str, int] = field(default_factory=dict)
    # train and dev sizes; train includes augmented copies, counted by kind (train_aeda, ...)
    examples: dict[str, int] = field(default_factory=dict)
    checkpoint: str | None = None


class History:
    """Evaluations in order; the best by (micro-F1, AUPRC), the earliest on a tie.

    ``keep_state``: copy the model's weights to the CPU at each new best, for a run that must
    predict its test set or save a checkpoint with the best weights rather than the last.
    """

    def __init__(self, keep_state: bool) -> None:
        self.keep_state = keep_state
        self.evaluations: list[Evaluation] = []
        self.best: Evaluation | None = None
        self.best_state: dict[str, torch.Tensor] | None = None

    def add(self, evaluation: Evaluation, model: torch.nn.Module) -> None:
        self.evaluations.append(evaluation)
        if self.best is None or _better(evaluation, self.best):
            self.best = evaluation
            if self.keep_state:
                self.best_state = cpu_state(model)

    def best_or_empty(self, step: int, steps_per_epoch: int) -> Evaluation:
        """The best evaluation, or an empty one for a run that diverged before its first."""
        if self.best is not None:
            return self.best
        return Evaluation(step, step / steps_per_epoch, {}, np.empty((0, 0)))

    def best_is_last(self) -> bool:
        return bool(self.evaluations) and self.best is self.evaluations[-1]

    def rows(self) -> list[dict[str, float]]:
        """One row per evaluation: where it was, what it cost so far, and its metrics."""
        return [
            {
                "step": e.step,
                "epoch": e.epoch,
                "seconds": round(e.seconds, 4),
                "examples": e.examples,
                **e.metrics,
            }
            for e in self.evaluations
        ]


def _better(a: Evaluation, b: Evaluation) -> bool:
    return (a.metrics["micro_f1"], a.metrics["auprc"]) > (b.metrics["micro_f1"], b.metrics["auprc"])


def cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}

"""What a run reports at each evaluation and what it ends with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

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

"""When a run evaluates: the steps, from the run's length and its settings (a pure function)."""

from __future__ import annotations


def evaluation_steps(
    total_steps: int,
    steps_per_epoch: int,
    eval_steps: int | None = None,
    evals_per_epoch: int = 4,
    evals_per_run: int | None = None,
) -> list[int]:
    """Ascending optimizer steps after which a run evaluates; the last step always is one.

    ``eval_steps`` (every N steps) wins, then ``evals_per_run`` (that many evaluations at equal
    fractions of the run's own schedule, whatever its length: the k-th evaluation of every run
    lies at the same point of its learning-rate schedule, so a pruner comparing k-th evaluations
    compares runs in the same phase), then ``evals_per_epoch``.
    """
    if evals_per_run and not eval_steps:
        k = min(evals_per_run, total_steps)
        return sorted({max(1, round(total_steps * i / k)) for i in range(1, k + 1)})
    every = eval_steps or max(1, steps_per_epoch // evals_per_epoch)
    return [*range(every, total_steps + 1, every), *([total_steps] if total_steps % every else [])]

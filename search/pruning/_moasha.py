"""Multi-objective asynchronous successive halving (MO-ASHA), as pure functions.

Nothing here knows about Optuna: points are plain tuples of floats, one per objective, and
``maximize`` says per objective which way is better. ``search/pruning/_pruner.py`` reads the
points from a
study and calls :func:`decide`.

The resource is counted in *evaluations*: a trial reaches rung ``k`` at its
``min_resource * reduction_factor**k``-th evaluation, whatever step label (optimizer step, epoch)
that evaluation carries. Counting evaluations, not raw steps, is what makes rungs line up with an
"evaluate every N steps" schedule: with N = 500, raw steps 1, 3, 9, ... would never be evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import Enum

import numpy as np

# Optuna's RDB storages keep a step in a 32-bit integer column, so no rung can lie beyond it.
MAX_STEP = 2**31 - 1


class Decision(Enum):
    """What a trial does after an evaluation."""

    CONTINUE = "continue"
    STOP = "stop"


def _gains(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> np.ndarray:
    """Points as an (n, m) array where larger is better in every column; NaN counts as worst."""
    m = len(maximize)
    array = np.array(points, dtype=float).reshape(len(points), m)
    signs = np.where(np.asarray(maximize, dtype=bool), 1.0, -1.0)
    gains = array * signs
    return np.where(np.isnan(gains), -np.inf, gains)


def _dominates(gains: np.ndarray) -> np.ndarray:
    """Matrix ``d`` with ``d[i, j]`` true when point i dominates point j (duplicates do not)."""
    n = len(gains)
    no_worse = np.ones((n, n), dtype=bool)
    better = np.zeros((n, n), dtype=bool)
    # One (n, n) comparison per objective: reducing an (n, n, m) array over its short last axis
    # is several times slower.
    for column in gains.T:
        no_worse &= column[:, None] >= column[None, :]
        better |= column[:, None] > column[None, :]
    return no_worse & better


def _is_dominated(point: np.ndarray, gains: np.ndarray) -> bool:
    """Whether any row of ``gains`` dominates ``point``: O(n), no full sort needed."""
    return bool(np.any(np.all(gains >= point, axis=1) & np.any(gains > point, axis=1)))


def _ranks_from_gains(gains: np.ndarray) -> np.ndarray:
    """Fast non-dominated sort (Deb et al. 2002): peel fronts by counting dominators."""
    dominates = _dominates(gains)
    dominators = dominates.sum(axis=0)
    ranks = np.full(len(gains), -1, dtype=int)
    front = np.flatnonzero(dominators == 0)
    rank = 0
    while front.size:
        ranks[front] = rank
        dominators = dominators - dominates[front].sum(axis=0)
        dominators[ranks >= 0] = -1
        front = np.flatnonzero(dominators == 0)
        rank += 1
    return ranks


def nondominated_ranks(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[int]:
    """Non-dominated rank of each point: 0 for the Pareto front, 1 for the front once 0 is removed.

    A point dominates another when it is at least as good in every objective and strictly better
    in one, so duplicates never dominate each other and share a rank. NaN is worse than any number.
    """
    if not points:
        return []
    return _ranks_from_gains(_gains(points, maximize)).tolist()


def _normalized(gains: np.ndarray) -> np.ndarray:
    """Scale each objective to [0, 1] over its finite values so no unit outweighs another.

    Infinite gains (NaN metrics, infinite losses) go just outside that range: they stay ordered
    without making every distance infinite.
    """
    scaled = np.zeros_like(gains)
    for k in range(gains.shape[1]):
        column = gains[:, k]
        finite = np.isfinite(column)
        if finite.any():
            low, high = column[finite].min(), column[finite].max()
            span = high - low if high > low else 1.0
            scaled[:, k] = (np.where(finite, column, low) - low) / span
    scaled[gains == np.inf] = 2.0
    scaled[gains == -np.inf] = -1.0
    return scaled


def _epsilon_net(coords: np.ndarray) -> list[int]:
    """Greedy farthest-point order of ``coords`` (row indices), seeded by the best first objective.

    Ties go to the lower index, so the order is deterministic.
    """
    n = len(coords)
    seed = int(np.lexsort(tuple(-coords[:, k] for k in reversed(range(coords.shape[1]))))[0])
    order = [seed]
    chosen = np.zeros(n, dtype=bool)
    chosen[seed] = True
    nearest = np.linalg.norm(coords - coords[seed], axis=1)
    for _ in range(n - 1):
        candidate = int(np.argmax(np.where(chosen, -1.0, nearest)))
        order.append(candidate)
        chosen[candidate] = True
        nearest = np.minimum(nearest, np.linalg.norm(coords - coords[candidate], axis=1))
    return order


def mo_order(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[int]:
    """Indices of ``points``, best first: by non-dominated rank, then by epsilon-net inside a rank.

    Inside one rank the order is Syne Tune's default for MOASHA (``NonDominatedPriority``): an
    epsilon-net, i.e. greedy farthest-point traversal. It starts from the point best on the first
    objective (so list the primary objective first) and then repeatedly takes the point farthest
    from all already taken, in objectives scaled to [0, 1] over the rung. We use it rather than
    NSGA-II's crowding distance because it is aware of what has already been kept: the first k
    points of a front spread over the whole front (a 2-approximation of the k-center problem),
    while crowding distance scores each point alone, gives every boundary point (so every point of
    a front of two) the same infinite score, and its top k can cluster. It is also a strict total
    order, which successive halving needs to cut at a position.
    """
    if not points:
        return []
    gains = _gains(points, maximize)
    ranks = _ranks_from_gains(gains)
    coords = _normalized(gains)
    order: list[int] = []
    for rank in range(int(ranks.max()) + 1):
        front = np.flatnonzero(ranks == rank)
        order.extend(int(front[i]) for i in _epsilon_net(coords[front]))
    return order


def rung_steps(min_resource: int, reduction_factor: int, max_resource: int | None) -> list[int]:
    """Resources (evaluation counts) at which trials are compared: ``r_min * eta**k``, ascending.

    Only rungs strictly below ``max_resource`` are returned: a trial that reached the maximum has
    finished, and stopping it there would only throw its final result away. With ``max_resource``
    None the rungs run up to :data:`MAX_STEP`.
    """
    _check_halving(min_resource, reduction_factor)
    if max_resource is not None and max_resource < 1:
        raise ValueError(f"max_resource must be at least 1, got {max_resource}")
    limit = MAX_STEP + 1 if max_resource is None else max_resource
    steps = []
    step = min_resource
    while step < limit:
        steps.append(step)
        step *= reduction_factor
    return steps


def rung_index(resource: int, min_resource: int, reduction_factor: int) -> int | None:
    """The ``k`` with ``resource == min_resource * reduction_factor**k``, or None if not a rung."""
    _check_halving(min_resource, reduction_factor)
    if resource < min_resource or resource % min_resource:
        return None
    ratio, k = resource // min_resource, 0
    while ratio % reduction_factor == 0:
        ratio //= reduction_factor
        k += 1
    return k if ratio == 1 else None


def decide(
    me: tuple[float, ...],
    others: Sequence[tuple[float, ...]],
    maximize: Sequence[bool],
    reduction_factor: int,
    min_trials: int,
) -> Decision:
    """Whether a trial that just reached a rung continues, given what else has reached it.

    This is the rule of MO-ASHA (Schmucker, Donini, Zafar, Salinas, Archambeau 2021,
    "Multi-objective Asynchronous Successive Halving"): asynchronous successive halving where
    "the top 1/eta" is taken in a multi-objective order instead of by one metric. The trial's
    values ``me`` are ranked together with the values ``others`` recorded at the same rung so far
    (by non-dominated rank, then epsilon-net, see :func:`mo_order`); it continues when its position
    is within the first ``ceil(n / reduction_factor)`` of the ``n`` results. Being asynchronous,
    the rule never waits for a rung to fill: it decides with whatever has arrived, and the rung
    only becomes more selective as results accumulate. Two safeguards on top: with fewer than
    ``min_trials`` results at the rung the trial continues, and a trial on the Pareto front of the
    rung (rank 0) always continues, even when the front is larger than the top ``1/eta``.
    """
    if reduction_factor < 2:
        raise ValueError(f"reduction_factor must be at least 2, got {reduction_factor}")
    if min_trials < 1:
        raise ValueError(f"min_trials must be at least 1, got {min_trials}")
    if len(me) != len(maximize) or any(len(other) != len(maximize) for other in others):
        raise ValueError(f"every point must have {len(maximize)} values, one per objective")
    n = len(others) + 1
    if n < min_trials:
        return Decision.CONTINUE
    gains = _gains([*others, me], maximize)
    if not _is_dominated(gains[-1], gains):
        return Decision.CONTINUE
    keep = math.ceil(n / reduction_factor)
    return Decision.CONTINUE if _is_within(gains, keep) else Decision.STOP


def _is_within(gains: np.ndarray, keep: int) -> bool:
    """Whether the last point's position in :func:`mo_order` is below ``keep``.

    Same answer as ``mo_order(...).index(n - 1) < keep``, but it orders only the point's own front
    and only when the cut falls inside it: ordering every front costs far more than sorting.
    """
    ranks = _ranks_from_gains(gains)
    ahead = int(np.count_nonzero(ranks < ranks[-1]))
    front = np.flatnonzero(ranks == ranks[-1])
    if ahead >= keep or ahead + len(front) <= keep:
        return ahead + len(front) <= keep
    order = _epsilon_net(_normalized(gains)[front])
    return ahead + order.index(len(front) - 1) < keep


def budget_saved(steps_run: Sequence[int], max_steps: int) -> dict[str, float]:
    """Budget spent against a search that runs every trial to ``max_steps`` (same unit).

    Returns ``steps_spent``, ``steps_without_pruning`` and ``fraction_saved`` (0.0 for no trials).
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    if any(steps < 0 or steps > max_steps for steps in steps_run):
        raise ValueError(f"every trial's steps must lie in [0, {max_steps}]")
    spent = sum(steps_run)
    full = len(steps_run) * max_steps
    return {
        "steps_spent": spent,
        "steps_without_pruning": full,
        "fraction_saved": 1.0 - spent / full if full else 0.0,
    }


def _check_halving(min_resource: int, reduction_factor: int) -> None:
    if min_resource < 1:
        raise ValueError(f"min_resource must be at least 1, got {min_resource}")
    if reduction_factor < 2:
        raise ValueError(f"reduction_factor must be at least 2, got {reduction_factor}")

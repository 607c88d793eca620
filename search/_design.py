"""The start-up design: the configurations TPE tries before it models, spread over the space.

TPE learns only from what its start-up trials tried. Drawn at random, 16 start-up trials left some
pair of categorical choices untried in nearly every seed (about 5 of the tiny space's 45 pairs), and
a search whose start-up never tried the best pair (``pooling=entity_start`` with
``markers=typed_entity``) modelled the others and stayed there (docs/concepts/efficiency.md).
So the start-up is a design instead: a Latin hypercube (scipy's), each parameter's range cut into
as many strata as there are start-up trials and each stratum tried once, chosen among
:data:`CANDIDATES` hypercubes for the most pairs of categorical choices tried together (every
pair, where the trials allow it: in the tiny space, every seed tests/search/test_design.py checks).

The design is made once per study from the search's seed, recorded in the study
(:data:`search._attrs.STARTUP_DESIGN`), and every worker's sampler reads it from there: trial
number ``n`` of the start-up takes point ``n``. Trial 0 is the KLUE recipe, enqueued with its own
values, so the design's point 0 is the recipe and the pairs it tries count as tried. A value
that a changed space no longer holds is drawn at random, as TPE draws it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from search._space import Choice, FloatRange, IntRange, Param, Space

# hypercubes drawn per design; the first that tries every pair of choices is taken
CANDIDATES = 256
# how a study's design was made, as the study records it
METHOD = f"Latin hypercube (scipy.stats.qmc), best of {CANDIDATES} by pairs of choices tried"


def startup_design(
    space: Space,
    model: str | None,
    points: int,
    seed: int,
    first: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """``points`` configurations of ``space``, one per start-up trial, drawn from ``seed``.

    ``first`` are the configurations the first trials take whatever the design says (the KLUE
    recipe, enqueued as trial 0): they are the design's first points, and the pairs they try
    count as tried. Fixed parameters are left out (a trial takes them as they are). Where the
    space chooses the model, each point's other parameters come from that model's ranges.
    """
    names = [n for n, p in space.params.items() if isinstance(p, (FloatRange, IntRange, Choice))]
    if not names or points < 1:
        return []
    given = [{n: point[n] for n in names if n in point} for point in first][:points]
    rng = np.random.default_rng(seed)
    choices = [n for n in names if isinstance(space.params[n], Choice)]
    best: tuple[int, list[dict[str, Any]]] | None = None
    for _ in range(CANDIDATES):
        unit = qmc.LatinHypercube(len(names), rng=rng).random(points)
        design = given + [_point(space, model, names, row) for row in unit[len(given) :]]
        missed = untried_pairs(design, space, choices)
        if best is None or missed < best[0]:
            best = (missed, design)
        if missed == 0:
            break
    assert best is not None
    return best[1]


def untried_pairs(design: list[dict[str, Any]], space: Space, names: list[str]) -> int:
    """How many pairs of choices of two categorical parameters no point of ``design`` holds."""
    missed = 0
    for a, b in itertools.combinations(names, 2):
        seen = {(point[a], point[b]) for point in design}
        pa, pb = space.params[a], space.params[b]
        assert isinstance(pa, Choice) and isinstance(pb, Choice)
        missed += sum((x, y) not in seen for x in pa.choices for y in pb.choices)
    return missed


def _point(space: Space, model: str | None, names: list[str], row: np.ndarray) -> dict[str, Any]:
    point: dict[str, Any] = {}
    if "model" in names:
        point["model"] = _value(space.params["model"], float(row[names.index("model")]))
        model = str(point["model"])
    for name, u in zip(names, row, strict=True):
        if name != "model":
            point[name] = _value(space.param_for(name, model), float(u))
    return point


def _value(p: Param, u: float) -> Any:
    """The value at ``u`` in [0, 1) of ``p``'s range: equal strata of the range (of its logarithm
    where ``log``), on the step grid where there is one."""
    if isinstance(p, Choice):
        return p.choices[min(int(u * len(p.choices)), len(p.choices) - 1)]
    assert isinstance(p, (FloatRange, IntRange))
    if p.log:
        x = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
    else:
        x = p.low + u * (p.high - p.low)
    if isinstance(p, IntRange):
        if not p.log:  # every integer value an equal share of [0, 1)
            steps = (p.high - p.low) // p.step + 1
            return p.low + min(int(u * steps), steps - 1) * p.step
        return min(p.low + round((x - p.low) / p.step) * p.step, p.high)
    if p.step is not None:
        x = p.low + round((x - p.low) / p.step) * p.step
    return float(min(max(x, p.low), p.high))

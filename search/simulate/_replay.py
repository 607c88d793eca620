"""One search replayed on a simulated clock: asynchronous workers against an in-memory study.

Each simulated worker holds its own study object on one shared ``InMemoryStorage`` with its own
sampler (seeded ``worker_seed(seed, worker)``, as ``search.run``'s workers) and its own pruner,
and does what the objective does in a real trial: ``study.ask()``, ``search._sampling.suggest``,
then at each evaluation the pruner's ``keep_going`` (MO-ASHA, Optuna's pruner through
``trial.report`` and ``should_prune``, or nobody), then the whole ``evals`` record and
``study.tell``. The next event
is always the earliest evaluation of any worker, each evaluation arriving its recorded (or
predicted) seconds after the trial started, so workers interleave as they would on real devices.
"""

from __future__ import annotations

import heapq
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from common._cli import quiet_libraries
from search._attrs import set_trial_evals
from search._design import startup_design
from search._sampling import TPE_STARTUP, klue_recipe, suggest, worker_seed
from search._space import Choice, FloatRange, IntRange, Space
from search.simulate._schedule import simulated_run, train_rows
from search.simulate._strategies import Strategy
from search.simulate._surrogate import Surrogate


@dataclass(frozen=True)
class Budget:
    """Start no trial once ``trials`` have started or ``seconds`` of compute are spent."""

    trials: int | None = None
    seconds: float | None = None


@dataclass
class Replay:
    """What one replay did: every trial it started, in the order they finished."""

    strategy: str
    seed: int
    trials: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Running:
    study: optuna.Study
    trial: optuna.Trial
    curve: np.ndarray
    started: float
    index: int = 0


def space_of(surrogate: Surrogate) -> Space:
    """The table's searched parameters as a search space (what its trials were sampled from)."""
    params = {}
    for name, d in surrogate.table.distributions.items():
        if isinstance(d, optuna.distributions.CategoricalDistribution):
            params[name] = Choice(tuple(d.choices))
        elif isinstance(d, optuna.distributions.IntDistribution):
            params[name] = IntRange(d.low, d.high, d.log, d.step)
        else:
            params[name] = FloatRange(d.low, d.high, d.log, d.step)
    return Space(params, source=f"table {surrogate.table.name}")


def replay(
    surrogate: Surrogate,
    strategy: Strategy,
    seed: int,
    workers: int,
    budget: Budget,
    rows: int,
) -> Replay:
    """Run ``strategy`` with ``workers`` simulated workers until ``budget`` is spent."""
    return _Clock(surrogate, strategy, seed, workers, budget, rows).run()


class _Clock:
    """The simulated workers and the queue of their next evaluations, earliest first."""

    def __init__(self, surrogate, strategy, seed, workers, budget, rows) -> None:
        storage = optuna.storages.InMemoryStorage()
        self.space = space_of(surrogate)
        model = str(surrogate.table.metadata.get("model") or "tiny")
        # TPE's start-up design, made from the search's seed as search.run makes it
        recipe = [klue_recipe(model, self.space)] if strategy.recipe else []
        design = (
            startup_design(self.space, model, TPE_STARTUP, seed, first=recipe)
            if strategy.sampler == "tpe" and strategy.design
            else []
        )
        self.studies = [
            optuna.create_study(
                storage=storage,
                study_name="replay",
                directions=["maximize"] * strategy.objectives,
                sampler=strategy.new_sampler(worker_seed(seed, w), design),
                pruner=strategy.optuna_pruner(),
                load_if_exists=True,
            )
            for w in range(workers)
        ]
        for config in recipe:
            self.studies[0].enqueue_trial(config)
        self.pruners = [strategy.new_pruner() for _ in range(workers)]
        self.surrogate, self.strategy, self.budget, self.rows = surrogate, strategy, budget, rows
        self.noise = np.random.default_rng(seed)
        self.out = Replay(strategy.name, seed)
        self.spent = {"seconds": 0.0, "examples": 0.0, "eval_seconds": 0.0, "started": 0}
        self.events: list[tuple[float, int, int]] = []
        self.running: dict[int, _Running] = {}

    def run(self) -> Replay:
        for w in range(len(self.studies)):
            self.start(w, 0.0)
        while self.events:
            now, _, w = heapq.heappop(self.events)
            self.evaluate(w, now)
        return self.out

    def start(self, w: int, now: float) -> None:
        budget, spent = self.budget, self.spent
        if budget.trials is not None and spent["started"] >= budget.trials:
            return
        if budget.seconds is not None and spent["seconds"] >= budget.seconds:
            return
        spent["started"] += 1
        trial = self.studies[w].ask()
        params = suggest(trial, self.space)
        residual = self.surrogate.draw(params, self.noise)
        curve = simulated_run(self.surrogate, params, self.strategy.cadence, self.rows, residual)
        self.running[w] = _Running(self.studies[w], trial, curve, now)
        heapq.heappush(self.events, (now + curve[0, 1], trial.number, w))

    def evaluate(self, w: int, now: float) -> None:
        """One evaluation of worker ``w``'s trial: count its cost, ask the pruner, go on or end."""
        run = self.running[w]
        row = run.curve[run.index]
        before = run.curve[run.index - 1] if run.index else np.zeros_like(row)
        self.spent["seconds"] += row[1] - before[1]
        self.spent["examples"] += row[2] - before[2]
        self.spent["eval_seconds"] += row[5] - before[5]
        values = [float(v) for v in row[3 : 3 + self.strategy.objectives]]
        keep = self.pruners[w].keep_going(run.study, run.trial, int(row[0]), values)
        if keep and run.index + 1 < len(run.curve):
            run.index += 1
            next_at = run.started + run.curve[run.index, 1]
            heapq.heappush(self.events, (next_at, run.trial.number, w))
            return
        self.out.trials.append(_finish(run, keep, self.strategy, self.spent, now))
        self.start(w, now)


def _kept(evals: np.ndarray, strategy: Strategy) -> np.ndarray:
    """The evaluation a run ends with: its best by F1 (the service keeps that one), or its last."""
    return evals[int(np.argmax(evals[:, 3]))] if strategy.keep_best else evals[-1]


def _finish(run: _Running, complete: bool, strategy: Strategy, spent, now) -> dict[str, Any]:
    """Record the evaluations and tell the study, as the objective does when a run returns."""
    done = run.curve[: run.index + 1]
    evals = {str(int(r[0])): [float(v) for v in r[3 : 3 + strategy.objectives]] for r in done}
    set_trial_evals(run.trial, evals)
    best, full = _kept(done, strategy), _kept(run.curve, strategy)
    if complete:
        run.study.tell(run.trial, [float(v) for v in best[3 : 3 + strategy.objectives]])
    else:
        run.study.tell(run.trial, state=TrialState.PRUNED)
    return {
        "number": run.trial.number,
        "state": "complete" if complete else "pruned",
        "at_seconds": spent["seconds"],
        "at_examples": spent["examples"],
        "at_eval_seconds": spent["eval_seconds"],
        "at_train_seconds": spent["seconds"] - spent["eval_seconds"],
        "clock": now,
        "f1": float(best[3]),
        "auprc": float(best[4]),
        "full_f1": float(full[3]),
        "full_auprc": float(full[4]),
        "evaluations": len(done),
        "params": dict(run.trial.params),
    }


_STATE: dict = {}


def _init(surrogate: Surrogate, rows: int) -> None:
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _STATE.update(surrogate=surrogate, rows=rows)


def _one(job: tuple[Strategy, int, int, Budget]) -> Replay:
    strategy, seed, workers, budget = job
    return replay(_STATE["surrogate"], strategy, seed, workers, budget, _STATE["rows"])


def run_all(
    surrogate: Surrogate,
    strategies: list[Strategy],
    seeds: int,
    workers: int,
    budget: Budget,
    processes: int,
) -> dict[str, list[Replay]]:
    """Every strategy with seeds 0..seeds-1, in ``processes`` processes (the same numbers)."""
    rows = train_rows(surrogate)
    jobs = [(s, seed, workers, budget) for s in strategies for seed in range(seeds)]
    if processes == 1:
        _init(surrogate, rows)
        done = [_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(processes, initializer=_init, initargs=(surrogate, rows)) as pool:
            done = list(pool.map(_one, jobs, chunksize=1))
    out: dict[str, list[Replay]] = {s.name: [] for s in strategies}
    for r in done:
        out[r.strategy].append(r)
    return out

"""``python -m search.simulate``: replay search strategies against a learning-curve table.

    python -m search.simulate --table bench/tables/tiny-random.jsonl.gz --seeds 20 \\
        --json sim.json --plot sim.png
    python -m search.simulate --storage sqlite:///searches.db --study last-week \\
        --strategies 'default;default:eta=2;random-moasha:r=2'
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import optuna

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from search.simulate import _metrics as metrics
from search.simulate import _plot as plot
from search.simulate._bias import render as render_bias
from search.simulate._bias import schedule_bias
from search.simulate._render import describe_table, render
from search.simulate._replay import Budget, run_all
from search.simulate._strategies import STRATEGIES, parse_strategies
from search.simulate._surrogate import Surrogate, fit
from search.simulate._table import export_table, load_table
from search.simulate._targets import best_known, targets, withhold

log = logging.getLogger("search.simulate")


def parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m search.simulate", description=__doc__.splitlines()[0])
    p.add_argument(
        "--table", help="a table export (.jsonl.gz; its format: the reference's table-format page)"
    )
    p.add_argument("--storage", help="storage URL of a finished study run with --pruner none")
    p.add_argument("--study", help="that study's name")
    p.add_argument(
        "--strategies",
        default=",".join(STRATEGIES),
        help=f"separated by ';' or ',', of {', '.join(STRATEGIES)}; NAME:eta=N,r=N,run=N,epoch=N "
        "varies reduction factor, min resource, evaluations a run or an epoch; design=0 draws "
        "TPE's start-up at random",
    )
    p.add_argument("--seeds", type=int, default=20, help="replays per strategy")
    p.add_argument("--workers", type=int, default=4, help="simulated workers (devices)")
    p.add_argument("--budget", default="100", help="trials (e.g. 100) or compute (e.g. 9000s)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="replay processes")
    p.add_argument(
        "--noise",
        nargs="?",
        const="residual",
        default="none",
        help="offset curves added to the surrogate's mean: residual (held-out residuals, the "
        "default of a bare --noise) or seeds (repeated-seed runs' spread); none without",
    )
    p.add_argument(
        "--best-f1",
        type=float,
        help="the best full-run micro-F1 known for this data outside the table (a real search's, "
        "another table's): the 95%%/99%% targets are of the better of it and the table's best",
    )
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--export", help="write the table as a .jsonl.gz export here and stop")
    p.add_argument("--plot", help="write a PNG of best F1 and hypervolume against compute here")
    return p


def parse_budget(text: str) -> Budget:
    seconds = text.endswith("s")
    number = text[:-1] if seconds else text
    try:
        value = float(number) if seconds else int(number)
    except ValueError:
        raise UserError(
            f"--budget: {text!r} is not a trial count (100) or seconds (9000s)"
        ) from None
    if value <= 0:
        raise UserError(f"--budget: {text!r} must be positive")
    return Budget(seconds=float(value)) if seconds else Budget(trials=int(value))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if bool(args.table) == bool(args.storage or args.study):
        raise UserError("give --table FILE, or --storage URL with --study NAME (not both)")
    if (args.storage and not args.study) or (args.study and not args.storage):
        raise UserError("--storage and --study go together")
    for flag in ("seeds", "workers", "processes"):
        if getattr(args, flag) < 1:
            raise UserError(f"--{flag}: must be at least 1, got {getattr(args, flag)}")
    strategies = parse_strategies(args.strategies)
    budget = parse_budget(args.budget)
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    table = load_table(args.table or args.storage, args.study)
    if args.export:
        export_table(table, Path(args.export))
        print(f"{args.export}: {describe_table(table)} of study {table.name}")
        return 0
    surrogate = fit(table, noise=args.noise)
    bias = schedule_bias(table)
    replays = run_all(surrogate, strategies, args.seeds, args.workers, budget, args.processes)
    budgets = {axis: metrics.common_budgets(replays, axis) for axis in metrics.AXES}
    best = best_known(table, args.best_f1)
    chosen = targets(best, surrogate.error)
    result = metrics.summarize(replays, best["f1"], budgets)
    withhold(result, chosen)
    elapsed = time.perf_counter() - started
    result["simulation"] = _about(table, surrogate, args, budget, elapsed)
    result["simulation"].update(schedule_bias=bias, best_known=best, targets=chosen)
    print(render(result, strategies))
    print("\nrungs against the final ranks, over the table's runs:\n" + render_bias(bias))
    if args.json:
        _write_json(Path(args.json), result)
    if args.plot:
        why = plot.write(replays, Path(args.plot))
        if why:
            print(f"PNG skipped: {why}")
    return 0


def _about(table, surrogate: Surrogate, args, budget: Budget, elapsed: float) -> dict:
    return {
        "table": {
            "name": table.name,
            "trials": len(table.full),
            "partial": len(table.curves) - len(table.full),
            "partial_share": {k: round(v, 3) for k, v in table.partial_share.items()},
            "best_f1": table.best_f1,
        },
        # the best of the surrogate's curves at the table's configurations: shown, never a target
        "surrogate_best_f1": round(surrogate.reference_f1(), 3),
        "noise": args.noise,
        "surrogate": surrogate.error,
        "seeds": args.seeds,
        "workers": args.workers,
        "budget": {"trials": budget.trials, "seconds": budget.seconds},
        "wall_seconds": round(elapsed, 1),
        "processes": args.processes,
    }


def _write_json(path: Path, result: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    run_main(main)

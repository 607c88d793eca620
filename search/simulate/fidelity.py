"""``python -m search.simulate.fidelity``: does the simulator predict real searches?

    python -m search.simulate.fidelity --table bench/tables/tiny-seeds.jsonl.gz \\
        --real bench/results/real_searches.json --seeds 40 \\
        --json bench/results/fidelity.json --plot bench/results/fidelity.png

For each strategy that real searches were run with (``bench/real_searches.py``'s JSON: each
search's strategy, trials, workers, best F1, hypervolume and compute), the strategy is replayed
``--seeds`` times with the same trials and workers, and each real search is set against the
replays' 10-90% band of best F1 and hypervolume at its own compute: in train examples (the
measure no machine load changes) and in seconds (training and evaluation; the real searches' and
the table's seconds were measured under whatever load the machine had). A real search is inside
when its figure lies within the band.
"""

from __future__ import annotations

import json
from pathlib import Path

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from search.simulate._real import aliases, check, render


def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(
        prog="python -m search.simulate.fidelity", description=__doc__.split("\n")[0]
    )
    p.add_argument("--table", required=True, help="a table export (.jsonl.gz)")
    p.add_argument("--real", required=True, help="real searches' JSON (bench/real_searches.py)")
    p.add_argument("--seeds", type=int, default=40, help="replays per strategy")
    p.add_argument(
        "--noise",
        default="none",
        help="none, residual (held-out residuals) or seeds (repeated-seed runs' spread)",
    )
    p.add_argument("--processes", type=int, default=1)
    p.add_argument(
        "--as",
        dest="aliases",
        help="REAL_NAME=STRATEGY;...: replay real searches recorded as REAL_NAME with STRATEGY",
    )
    p.add_argument(
        "--learn-real",
        action="store_true",
        help="fit each search's surrogate on the table plus the other real searches' runs "
        "(complete ones full, pruned ones partial; never the search's own)",
    )
    p.add_argument("--json", help="write the result here")
    p.add_argument("--plot", help="write a PNG of real against simulated here")
    args = p.parse_args(argv)
    if args.seeds < 2:
        raise UserError(f"--seeds: at least 2 for a band, got {args.seeds}")
    known = aliases(args.aliases)
    quiet_libraries()
    result = check(
        args.table, args.real, args.seeds, args.noise, args.processes, known, args.learn_real
    )
    print(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.plot:
        from search.simulate._plot import write_fidelity

        why = write_fidelity(result, Path(args.plot))
        if why:
            print(f"PNG skipped: {why}")
    return 0


if __name__ == "__main__":
    run_main(main)

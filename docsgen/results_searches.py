"""The result page of real searches (``bench/real_searches.py``): each strategy's spread over its
seeds (the lock-in figure: the worst best F1 as a share of the median), then every search."""

from __future__ import annotations

import statistics

from docsgen.markdown import table

FLAGS = {
    "explore-0": "`-- --explore 0`: every trial after TPE's 16 start-up trials from its model, "
    "none drawn at random; these ten ran with a design chosen from 64 hypercubes, not 256, whose "
    "point 0 no trial took (trial 0 is the recipe)",
    "startup-random": "`-- --startup random --explore 0`: TPE's 16 start-up trials drawn at random "
    "rather than from the design, and none after them",
    "random": "`-- --sampler random --pruner none`: random search, every trial run to the end",
}

SUMMARY = [
    "strategy", "searches", "best micro-F1 worst / median / best", "worst / median",
    "hypervolume median", "pruned median", "train s / eval s median",
]  # fmt: skip
EVERY = [
    "strategy", "seed", "best micro-F1", "hypervolume", "complete / pruned / failed", "train s",
    "eval s", "train examples", "wall s", "load at start, end",
]  # fmt: skip


def real_searches(d: dict) -> str:
    searches = d.get("searches") or []
    by_strategy: dict[str, list[dict]] = {}
    for s in searches:
        by_strategy.setdefault(s["strategy"], []).append(s)
    out = [
        "40-trial searches of `python -m search.run` (tiny model, built-in sample data, 2 "
        "workers), one per `--seed`. Best F1 and hypervolume are of the COMPLETE trials; compute "
        "is the trials' own training and evaluation seconds and the training examples they "
        "stepped over.\n\n",
        table(SUMMARY, [_summary(name, group) for name, group in by_strategy.items()]),
    ]
    notes = [f"- `{name}`: {text}\n" for name, text in FLAGS.items() if name in by_strategy]
    if notes:
        out.append("\n" + "".join(notes))
    out.append("\nEvery search (load averages over 1, 5 and 15 minutes at its start and end):\n\n")
    out.append(table(EVERY, [_row(s) for s in searches]))
    return "".join(out)


def _summary(name: str, group: list[dict]) -> list:
    best = sorted(s["best_f1"] for s in group)
    middle = statistics.median(best)

    def median(key: str, part: str | None = None) -> float:
        return statistics.median((s[part][key] if part else s[key]) for s in group)

    return [
        f"`{name}`",
        len(group),
        f"{best[0]:.1f} / {middle:.1f} / {best[-1]:.1f}",
        f"{best[0] / middle:.3f}",
        f"{median('hypervolume'):.0f}",
        f"{median('pruned'):.0f}",
        f"{median('train_s', 'compute'):.0f} / {median('eval_s', 'compute'):.0f}",
    ]


def _row(s: dict) -> list:
    compute, machine = s["compute"], s.get("machine") or {}
    load = [machine.get("load_average_start"), machine.get("load_average_end")]
    return [
        f"`{s['strategy']}`",
        s["seed"],
        f"{s['best_f1']:.2f}",
        f"{s['hypervolume']:.0f}",
        f"{s['complete']} / {s['pruned']} / {s.get('fail', 0)}",
        f"{compute['train_s']:.0f}",
        f"{compute['eval_s']:.0f}",
        compute["train_examples"],
        f"{s['wall_s']:.0f}",
        "; ".join(", ".join(f"{x:.1f}" for x in pair) for pair in load if pair) or "?",
    ]

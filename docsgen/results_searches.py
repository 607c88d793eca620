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
    "trainer": "`--runner trainer`: not search.run but bench/trainer_search.py, the search "
    '`Trainer.hyperparameter_search(backend="optuna")` runs (Optuna\'s TPE as it comes, its '
    "median pruner told F1 at each evaluation, a trial's value its last evaluation's F1, 4 "
    "evaluations an epoch, no recipe) on the service's space, data and training loop; its "
    "hypervolume is of each complete trial's last evaluation",
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
    if d.get("to_best"):
        out.append(_to_best(d["to_best"]))
    out.append("\nEvery search (load averages over 1, 5 and 15 minutes at its start and end):\n\n")
    out.append(table(EVERY, [_row(s) for s in searches]))
    return "".join(out)


TO_BEST = [
    "share of the best", "target F1", "strategy", "searches reaching it",
    "median train examples", "median train s / eval s",
]  # fmt: skip


def ratio_phrases(entry: dict) -> list[tuple[str, str]]:
    """(other strategy, "0.40x its train examples (0.35x its seconds)" or "none (why)") for
    each ratio of one target in real_searches.json's ``to_best``."""
    out = []
    for name, ratio in entry["ratios"].items():
        other = name.removeprefix("default_over_")
        if "none" in ratio:
            out.append((other, f"none ({ratio['none']})"))
        else:
            out.append((other, f"{ratio['train_examples']:.2f}x its train examples "
                               f"({ratio['seconds']:.2f}x its seconds)"))  # fmt: skip
    return out


def _to_best(d: dict) -> str:
    rows = []
    for share, entry in d["targets"].items():
        for name, got in entry["strategies"].items():
            median = got["median"]
            rows.append([
                f"{share}%", f"{entry['f1']:.2f}", f"`{name}`",
                f"{got['reached']} of {got['searches']}",
                f"{median['train_examples']:.0f}" if median else "not reached by over half",
                f"{median['train_s']:.0f} / {median['eval_s']:.0f}" if median else "",
            ])  # fmt: skip
    ratios = [
        f"- {share}%, the default against `{other}`: {phrase}\n"
        for share, entry in d["targets"].items()
        for other, phrase in ratio_phrases(entry)
    ]
    return (
        f"\nCompute to a share of the best run known ({d['best_f1']:.2f} F1, {d['source']}), "
        "real searches only, no surrogate: the compute of every trial up to and including the "
        "first complete one to reach it, trials in number order (`bench/real_searches.py`'s "
        "`compute_to`). A search that never reached it counts as more than any that did, so a "
        "median exists only where over half did; the 95% and 99% targets are the issue's, 90% "
        "a level most 40-trial searches reach. Seconds moved with the machine's load; train "
        "examples do not.\n\n" + table(TO_BEST, rows) + "\n" + "".join(ratios)
    )


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

"""The figures of each kind of result JSON as Markdown tables, and the headline figures. Each
renderer reads its JSON's own keys; a file no renderer knows gets its scalar values listed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from docsgen.markdown import table
from docsgen.results_searches import real_searches


def num(value: object, digits: int = 2) -> str:
    if value is None:
        return "never"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def pct(share: float | None) -> str:
    return "?" if share is None else f"{100 * share:.2f}%"


def _quartiles(q: dict, digits: int = 0) -> str:
    median, q1, q3 = (num(q.get(key), digits) for key in ("median", "q1", "q3"))
    return f"{median} [{q1}, {q3}]"


def overhead_service(d: dict) -> str:
    rows = [
        [
            i,
            f"{run['command_wall_s']:.0f} s",
            f"{run['complete']} / {run['pruned']}",
            f"{run['best_micro_f1']:.1f} / {run['best_auprc']:.1f}",
            " / ".join(f"{v:.1f}" for v in run.get("klue_recipe") or []),
            pct(run["overhead_share"]),
            pct(run.get("whole_command_overhead_share")),
        ]
        for i, run in enumerate(d["runs"], 1)
    ]
    header = [
        "run",
        "wall",
        "complete / pruned",
        "best micro-F1 / AUPRC",
        "KLUE recipe micro-F1 / AUPRC",
        "service share",
        "whole command",
    ]
    return table(header, rows) + (
        f"\nService share: the workers' wall time outside training and evaluation; goal "
        f"{pct(d['goal'])}, met in {d['met_in_runs']} of {len(d['runs'])} runs.\n"
    )


def overhead_per_trial(d: dict) -> str:
    rows = [
        ["median trial, this service", f"{d['ours_median_trial_s']} s"],
        ["median trial, bare Optuna", f"{d['bare_optuna_median_trial_s']} s"],
        ["ratio", f"{d['ratio']}x (goal <= {d['goal']}x)"],
        ["overhead per trial", f"{d['overhead_ms_per_trial']} ms"],
    ]
    return table(["figure", "measured"], rows) + (
        f"\n{d['trials_per_round']} mocked trials a round, {d['rounds']} rounds, "
        "the same SQLite storage.\n"
    )


def throughput(d: dict) -> str:
    rows = [
        [name, r["median_examples_per_s"], r["median_positions_per_s"]]
        for name, r in d["results"].items()
    ]
    ratios = [
        [
            name,
            f"{r['ratio_of_medians']}x",
            f"{r['median_paired_ratio']}x",
            f">= {r['goal']}: {'met' if r['met'] else 'not met'}",
        ]
        for name, r in d["ratios"].items()
    ]
    return (
        table(["contender", "examples/s (median)", "positions/s (median)"], rows)
        + "\n"
        + table(["ratio", "of medians", "median paired", "goal"], ratios)
    )


def trial_costs(d: dict) -> str:
    out = []
    if "memory" in d:
        m = d["memory"]
        out.append(
            f"Peak resident memory of one tiny-model trial in a fresh process: "
            f"**{m['run_result_peak_rss_mb']} MiB** (goal < {m['goal_mb']} MiB).\n\n"
        )
    if "startup" in d:
        s = d["startup"]
        out.append(
            f"Start-up with warm caches (call to the end of the first optimizer step): "
            f"**{s['second_call_startup_s']} s** on the second call in a process, "
            f"{s['cold_startup_s']} s on the first (goal < {s['goal_s']} s).\n\n"
        )
    if "learnability" in d:
        ln = d["learnability"]
        rows = [
            [f"`{ln[k]['command']}`", ln[k]["micro_f1"], ln[k]["auprc"]]
            for k in ("reasonable", "bad")
            if k in ln
        ]
        b = ln.get("baselines", {})
        majority = f"always `{b.get('majority_relation')}`"
        rows.append([majority, b.get("majority_relation_micro_f1"), ""])
        rows.append(["random scores", "", b.get("random_scores_auprc")])
        out.append(table(["configuration", "dev micro-F1", "dev AUPRC"], rows))
    return "".join(out)


def scaling(d: dict) -> str:
    counts = sorted({run["workers"] for r in d["results"] for run in r["runs"]})
    rows = []
    for r in d["results"]:
        by = {run["workers"]: run for run in r["runs"]}
        first = by[counts[0]]
        cells = [f"{first['trials_per_s']:.2f}/s"] + [
            num(by[n]["efficiency"]) if n in by else "" for n in counts[1:]
        ]
        failed = sum(run["failed"] for run in r["runs"])
        p = r["per_trial"]
        rows.append([r["storage"], *cells, failed, f"{p['ratio']}x (+{p['overhead_ms']:.0f} ms)"])
    header = ["storage", *[f"{n} workers" for n in counts], "failed", "per trial vs bare Optuna"]
    return table(header, rows) + (
        f"\nThe first column is finished trials per second with one worker, the others the "
        f"efficiency throughput_N / (N x throughput_1); mocked {d['seconds_per_trial']} s trials, "
        f"{d['trials_per_worker']} per worker, sampler {d['sampler']}, pruner {d['pruner']}.\n"
    )


def vs_hf_search(d: dict) -> str:
    names = {
        "ours": "`search.run`",
        "ours_hf_space": "`search.run` in Trainer's space",
        "hf": "`Trainer.hyperparameter_search`",
    }
    rows = [
        [
            names.get(k, k),
            f"{d[k]['wall_s']:.0f} s",
            f"{d[k]['cpu_s']:.0f} s",
            d[k]["steps"],
            f"{d[k]['pruned']} of {d[k]['trials']}",
            num(d[k]["best_micro_f1"], 1),
            num(d[k]["best_auprc"], 1),
        ]
        for k in d.get("order", names)
        if k in d
    ]
    return table(
        ["contender", "wall", "CPU", "training steps", "pruned", "best micro-F1", "best AUPRC"],
        rows,
    )


def s3_artifacts(d: dict) -> str:
    rows = [
        [
            kind,
            f"{r['trials']} ({r['complete']} / {r['pruned']})",
            f"{r['worker_wall_s']:.0f} s",
            pct(r["overhead_share"]),
        ]
        for kind, r in (("S3", d["s3"]), ("directory", d["directory"]))
    ]
    u = d["uploads"]
    return table(
        ["artifacts", "trials (complete / pruned)", "workers' wall", "service share"], rows
    ) + (
        f"\nOne upload of {u['bytes'] / 1000:.0f} kB: {1000 * u['s3_median_s']:.1f} ms to S3, "
        f"{1000 * u['directory_median_s']:.1f} ms to a directory. An ensemble built from S3 on "
        f"another directory equals the one from a local copy: {d['ensemble']['equal']}.\n"
    )


def live_curves(d: dict) -> str:
    rows = [
        [r["trials"], f"{r['rebuild_s']} s", pct(r["overhead_at_default_period"])]
        for r in d["rows"]
    ]
    share = f"share of a worker at --live-every {d['live_every_s']:.0f}"
    return table(["trials", "one rebuild", share], rows)


def simulate(d: dict) -> str:
    strategies = {k: v for k, v in d.items() if k != "simulation"}
    first = next(iter(strategies.values()))
    budgets = list(first.get("at_budget", {}))
    rows = []
    for name, s in strategies.items():
        at = s.get("at_budget", {})
        rows.append(
            [
                f"`{name}`",
                num(s["compute_spent"]["median"], 0),
                num(s["pruned"]["median"], 0),
                _refused_or(s["compute_to_95"], _quartiles),
                " / ".join(_refused_or(s[f"reached_{share}"], num) for share in (95, 99)),
                " / ".join(
                    _refused_or(s.get(f"compute_to_95_vs_{other}") or {}, _ratio)
                    for other in ("random", "trainer")
                ),
                " / ".join(num(at[b]["best_f1"]["median"]) for b in budgets),
                " / ".join(num(at[b]["hypervolume"]["median"], 0) for b in budgets),
                " / ".join(
                    num(s[key]["median"]) for key in ("pruning_regret", "pruning_regret_f1_lost")
                ),
            ]
        )
    at = " / ".join(budgets)
    sim = d.get("simulation", {})
    header = [
        "strategy",
        "compute spent",
        "pruned",
        "compute to 95%",
        "seeds reaching 95% / 99%",
        "compute to 95%, over random / over trainer",
        f"best F1 at {at} s",
        f"hypervolume at {at} s",
        "regret / F1 lost",
    ]
    return table(header, rows) + (
        f"\n{sim.get('seeds')} seeds, {sim.get('workers')} simulated workers, budget "
        f"{_budget(sim.get('budget', {}))}; medians [quartiles] in simulated GPU-seconds, "
        f"training and evaluation together. {_targets(sim)}\n"
    )


def _targets(sim: dict) -> str:
    """What the targets are of, and which were refused, as the JSON says."""
    best, error = sim.get("best_known"), (sim.get("surrogate") or {}).get("mae_final_f1")
    table_runs = (sim.get("table") or {}).get("trials")
    if not best:  # a replay from before targets were of the best known run
        return (
            f"The 95% and 99% targets are of {sim.get('reference_f1')}, the table's best F1 "
            f"through its surrogate ({table_runs} full runs)."
        )
    parts = [
        f"The targets are shares of {best['f1']:.2f} F1 ({best['source']}; {table_runs} full "
        f"runs); the surrogate's held-out error on a run's final F1 is {error}."
    ]
    for share, target in (sim.get("targets") or {}).items():
        verdict = f"refused: {target['refused']}" if target.get("refused") else "reported"
        parts.append(f"{share}% = {target['f1']:.2f}, {verdict}.")
    return " ".join(parts)


def _refused_or(value, show) -> str:
    if isinstance(value, dict) and "refused" in value:
        return "refused"
    return show(value) if value not in ({}, None) else "-"


def _ratio(r: dict) -> str:
    return f"{r.get('kind', '')} {r.get('ratio')}x".strip()


def _budget(budget: dict) -> str:
    return f"{budget['trials']} trials" if budget.get("trials") else f"{budget.get('seconds')} s"


def generic(d: dict) -> str:
    rows = [[f"`{key}`", value] for key, value in _scalars(d) if key.split(".")[0] != "machine"]
    return table(["key", "value"], rows[:60])


def _scalars(d: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in d.items():
        if isinstance(value, dict):
            yield from _scalars(value, f"{prefix}{key}.")
        elif not isinstance(value, list):
            yield f"{prefix}{key}", value


Renderer = Callable[[dict], str]
FIGURES: dict[str, tuple[str, Renderer]] = {
    "overhead_service": ("The default search, three times", overhead_service),
    "overhead_per_trial": ("Per-trial overhead against bare Optuna", overhead_per_trial),
    "throughput": ("Training throughput", throughput),
    "throughput_threads1": ("Training throughput, one torch thread", throughput),
    "trial_costs": ("One trial: memory, start-up, learnability", trial_costs),
    "scaling": ("Scaling with workers", scaling),
    "vs_hf_search": ("Against transformers' own search", vs_hf_search),
    "s3_artifacts": ("Predictions in S3", s3_artifacts),
    "live_curves": ("The dashboard's live curves", live_curves),
    "real_searches": ("Real searches, one per seed", real_searches),
    "fidelity": ("The simulator against the real searches", generic),
    "simulate_strategies": ("Strategies replayed, 100 trials", simulate),
    "simulate_defaults": ("The default's settings replayed, 100 trials", simulate),
    "simulate_300": ("Strategies replayed, 300 trials", simulate),
    "simulate_random_3000": ("Random search replayed to 3000 trials", simulate),
    "simulate_default_12228s": ("The default at random's compute to 99%", simulate),
    "simulate_min_resource_100": ("Min resource replayed, 100 trials", simulate),
    "simulate_seeds_40": ("Replayed on the table with the real runs, 40 trials", simulate),
    "simulate_seeds_300": ("Replayed on the table with the real runs, 300 trials", simulate),
    "simulate_half_seeds_40": ("Replayed on half the training data, 40 trials", simulate),
    "simulate_seeds_pruners_300": ("The pruner's settings replayed, 300 trials", simulate),
    "lockin_replays": ("The default's variants at a first search (the old table)", generic),
    "lockin_replays_seeds": ("The default's variants at a first search", generic),
}

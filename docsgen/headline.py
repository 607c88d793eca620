"""The headline figures (the README's table and the results index's): a few numbers, each read
from its result JSON by a small function here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from docsgen.results_figures import num, pct
from docsgen.results_searches import ratio_phrases


def headline_rows(available: dict[str, dict]) -> list[tuple[str, str, str]]:
    """(source stem, figure, value) for the headline table, from whichever files exist."""
    rows = []
    for stem, figure, value in _HEADLINES:
        if stem in available:
            try:
                rows.append((stem, figure, value(available[stem])))
            except (KeyError, TypeError, IndexError):
                continue
    return rows


def _scaling16(d: dict) -> str:
    most = [max(r["runs"], key=lambda run: run["workers"]) for r in d["results"]]
    return f"{most[0]['workers']} workers: " + ", ".join(
        f"{r['storage']} {num(run['efficiency'])}"
        for r, run in zip(d["results"], most, strict=True)
    )


def _real(strategy: str) -> Callable[[dict], str]:
    """Best micro-F1 of the real searches of ``strategy``: worst / median / best, the worst as a
    share of the median (the lock-in figure), and a search's compute (medians) in both units."""

    def figure(d: dict) -> str:
        group = [s for s in d["searches"] if s["strategy"] == strategy]
        best = sorted(s["best_f1"] for s in group)
        if not best:
            raise KeyError(strategy)
        middle = float(np.median(best))

        def median(key: str) -> float:
            return float(np.median([s["compute"][key] for s in group]))

        return (
            f"{len(best)} seeds: {best[0]:.1f} / {middle:.1f} / {best[-1]:.1f}; "
            f"worst = {best[0] / middle:.2f} of the median; a search "
            f"{median('train_examples') / 1000:.0f}k train examples, "
            f"{median('train_s'):.0f} s training + {median('eval_s'):.0f} s evaluation"
        )

    return figure


def _to95(d: dict) -> str:
    """The default's compute to 95% of the best run over random's and the Trainer equivalent's,
    or why it is not measured."""
    target = d["simulation"]["targets"]["95"]
    error = d["simulation"]["surrogate"]["mae_final_f1"]
    if target.get("refused"):
        return (
            f"not measured: the target lies {target['below_best']} F1 below the best run, "
            f"within the surrogate's error ({error})"
        )
    others = [other for other in ("random", "trainer") if other in d]
    ratios = [(other, d["default"].get(f"compute_to_95_vs_{other}")) for other in others]
    parts = [f"{r['kind']} {r['ratio']}x {other}'s" for other, r in ratios if r and "ratio" in r]
    return "; ".join(parts) + f" (surrogate error {error:.2f} F1)"


def _real_to(share: str) -> Callable[[dict], str]:
    """The default's median compute to ``share``% of the best real run over random's and the
    Trainer equivalent's, real searches alone."""

    def figure(d: dict) -> str:
        entry = d["to_best"]["targets"][share]
        parts = [f"against {other}, {phrase}" for other, phrase in ratio_phrases(entry)]
        return f"target {entry['f1']:.1f}: " + "; ".join(parts)

    return figure


DEFAULT_VARIANT = "rank=eval,r=3,startup=16,design,explore=3"  # bench/lockin_replays.py's name


def _verdict(met: bool, target: str) -> str:
    return f"target {target}: {'met' if met else 'missed'}"


def _lockin_replayed(d: dict) -> str:
    """The default's 10th percentile of best F1 over its median, beside the other strategies'."""
    variants = d["variants"]
    mine = variants[DEFAULT_VARIANT]["summary"]["p10_over_median"]
    others = ", ".join(
        f"{name} {v['summary']['p10_over_median']:.3f}"
        for name, v in variants.items()
        if name in ("random", "tpe", "random-moasha")
    )
    return f"{mine:.3f} ({_verdict(mine >= 0.95, '0.95')}); the others on this table: {others}"


def _regret300(d: dict) -> str:
    regret = d["default"]["pruning_regret"]["median"]
    lost = d["default"]["pruning_regret_f1_lost"]["median"]
    return (
        f"{regret:.2f} of the final front stopped ({_verdict(regret <= 0.10, 'at most 0.10')}); "
        f"best F1 lost {lost:.2f} in the median seed"
    )


def _fidelity(d: dict) -> str:
    c = d["counts"]["default"]
    inside = c["examples:best_f1"]
    return (
        f"{inside} of {c['searches']} best F1, {c['examples:hypervolume']} of {c['searches']} "
        f"hypervolumes ({_verdict(inside >= 8, 'at least 8 of 10')})"
    )


def _to99(d: dict) -> str:
    target = d["simulation"]["targets"]["99"]
    return f"refused: {target['refused']}" if target.get("refused") else "reported"


_HEADLINES: list[tuple[str, str, Callable[[dict], str]]] = [
    (
        "overhead_service",
        "workers' time outside training and evaluation (median)",
        lambda d: pct(d["overhead_share_median"]),
    ),
    ("overhead_per_trial", "per-trial time against bare Optuna", lambda d: f"{d['ratio']}x"),
    (
        "throughput",
        "training examples/s against the competition recipe",
        lambda d: f"{d['ratios']['ours/baseline']['ratio_of_medians']}x",
    ),
    ("scaling", "scaling efficiency at the most workers", _scaling16),
    (
        "vs_hf_search",
        "best micro-F1, this search / `Trainer.hyperparameter_search`",
        lambda d: f"{d['ours']['best_micro_f1']:.1f} / {d['hf']['best_micro_f1']:.1f}",
    ),
    (
        "real_searches",
        "real default searches (40 trials, 2 workers), best micro-F1 worst / median / best",
        _real("default"),
    ),
    (
        "real_searches",
        "the same with `--explore 0` (no random trials after TPE's start-up)",
        _real("explore-0"),
    ),
    (
        "real_searches",
        "the same with `--startup random --explore 0` (TPE's start-up drawn, not designed)",
        _real("startup-random"),
    ),
    (
        "real_searches",
        "random search without pruning (`--sampler random --pruner none`), the same figure",
        _real("random"),
    ),
    (
        "real_searches",
        "the search `Trainer.hyperparameter_search` runs, on the same space and loop, the same "
        "figure",
        _real("trainer"),
    ),
    (
        "real_searches",
        "real searches: compute to 90% of the best real run, the default against random and "
        "the Trainer equivalent (medians)",
        _real_to("90"),
    ),
    (
        "real_searches",
        "the same to 95%",
        _real_to("95"),
    ),
    (
        "simulate_seeds_300",
        "replayed (300 trials, 4 workers, 20 seeds, the table with the real runs): compute to 95% "
        "of the best real run in seconds, evaluation included, the default against random and "
        "the Trainer equivalent",
        _to95,
    ),
    ("simulate_seeds_300", "the same to 99%", _to99),
    (
        "simulate_seeds_300",
        "pruning regret, the default replayed at 300 trials on the same table (median)",
        _regret300,
    ),
    (
        "lockin_replays_seeds",
        "lock-in replayed (40 trials, 2 workers, 40 seeds): 10th percentile of best F1 over the "
        "median",
        _lockin_replayed,
    ),
    (
        "fidelity",
        "real default searches inside the simulator's 10-90% band at their training examples",
        _fidelity,
    ),
]

"""The replays' figures as text: one line per strategy, the targets and the surrogate's error
beside them, compute in seconds (training and evaluation apart) and in train examples."""

from __future__ import annotations

from typing import Any

from search.simulate._strategies import Strategy


def render(result: dict, strategies: list[Strategy]) -> str:
    about = result["simulation"]
    err = about["surrogate"]
    best = about["best_known"]
    lines = [
        f"table {about['table']['name']}: {_runs(about['table'])}, best micro-F1 "
        f"{about['table']['best_f1']:.2f}; surrogate {err['model']}, held-out MAE F1 "
        f"{err['mae_f1']} / AUPRC {err['mae_auprc']}, final F1 {err['mae_final_f1']} "
        f"({err['held_out']}); its best at the table's configurations "
        f"{about['surrogate_best_f1']:.2f} (not a target)",
        f"targets: of {best['f1']:.2f}, {best['source']}; " + _targets(about["targets"]),
        f"{about['seeds']} seeds, {about['workers']} workers, median [q1, q3]; compute in "
        "simulated GPU-seconds, training and evaluation together",
        f"{'strategy':<24}{'trials':>7}{'pruned':>7}{'to 95%':>22}{'to 99%':>22}"
        f"{'best F1':>8}{'HV':>9}{'regret':>8}{'points':>7}{'top5':>6}{'hit 99%':>8}"
        f"{'99% vs random':>14}{'vs trainer':>11}",
    ]
    for s in strategies:
        e = result[s.name]
        full = list(e["at_budget"].values())[-1]
        lines.append(
            f"{s.name:<24}{_n(e['trials']['median']):>7}{_n(e['pruned']['median']):>7}"
            f"{_iqr(e['compute_to_95']):>22}{_iqr(e['compute_to_99']):>22}"
            f"{_n(full['best_f1']['median'], 2):>8}{_n(full['hypervolume']['median'], 0):>9}"
            f"{_n(e['pruning_regret']['median'], 2):>8}"
            f"{_n(e['pruning_regret_points']['median'], 2):>7}"
            f"{_n(e['pruning_regret_top5']['median'], 2):>6}{_share(e['reached_99']):>8}"
            f"{_vs(e.get('compute_to_99_vs_random')):>14}{_vs(e.get('compute_to_99_vs_trainer')):>11}"
        )
    budget = list(result[strategies[0].name]["at_budget"])[-1]
    lines.append(
        f"best F1 (+- {err['mae_final_f1']}, the surrogate's held-out error on final F1) and HV "
        f"at {budget} GPU-seconds (the median total of the strategy that spent least); regret: "
        "share of the final front's configurations stopped, points: of its points no completed "
        "run reached, top5: of the 5 best full runs tried; <= and >= where the other median was "
        f"never reached; replays took {about['wall_seconds']} s"
    )
    lines += ["", _apart(result, strategies)]
    return "\n".join(lines)


def _apart(result: dict, strategies: list[Strategy]) -> str:
    """Compute spent and compute to the targets in train seconds, eval seconds and examples."""
    lines = [
        f"{'strategy':<24}{'train s':>9}{'eval s':>9}{'examples':>11}"
        f"{'95%: train s':>14}{'eval s':>9}{'examples':>11}"
        f"{'99%: train s':>14}{'eval s':>9}{'examples':>11}"
    ]
    for s in strategies:
        e = result[s.name]
        row = f"{s.name:<24}"
        row += f"{_med(e['compute_spent_train_seconds']):>9}"
        row += f"{_med(e['compute_spent_eval_seconds']):>9}"
        row += f"{_med(e['compute_spent_examples']):>11}"
        for share in (95, 99):
            row += f"{_med(e[f'compute_to_{share}_train_seconds']):>14}"
            row += f"{_med(e[f'compute_to_{share}_eval_seconds']):>9}"
            row += f"{_med(e[f'compute_to_{share}_examples']):>11}"
        lines.append(row)
    lines.append("medians: compute spent in all, and when a target was first reached")
    return "\n".join(lines)


def _targets(chosen: dict[str, dict[str, Any]]) -> str:
    parts = []
    for share, t in chosen.items():
        if t.get("refused"):
            parts.append(f"{share}% ({t['f1']:.2f}) refused: {t['refused']}")
        else:
            parts.append(f"{share}% = {t['f1']:.2f}")
    return "; ".join(parts)


def describe_table(table) -> str:
    return _runs(
        {
            "trials": len(table.full),
            "partial": len(table.curves) - len(table.full),
            "partial_share": table.partial_share,
        }
    )


def _runs(about: dict) -> str:
    """ "153 full runs", or with a pruned study's partial curves, how much of the table they are."""
    text = f"{about['trials']} full runs"
    if about.get("partial"):
        share = about["partial_share"]
        text += (
            f" and {about['partial']} partial curves of pruned trials ({share['runs']:.0%} of "
            f"the runs, {share['evaluations']:.0%} of the evaluations)"
        )
    return text


def _n(value, digits: int = 0) -> str:
    return "never" if value is None else f"{value:.{digits}f}"


def _med(q: dict) -> str:
    return "refused" if "refused" in q else _n(q["median"])


def _share(value) -> str:
    return "refused" if isinstance(value, dict) else _n(value, 2)


def _vs(ratio: dict | None) -> str:
    """A ratio of medians: exact, a bound where one median was never reached, or ?."""
    if ratio and "refused" in ratio:
        return "refused"
    if not ratio or ratio["ratio"] is None:
        return "?"
    sign = {"exact": "", "at most": "<=", "at least": ">="}[ratio["kind"]]
    return f"{sign}{ratio['ratio']:.2f}"


def _iqr(q: dict) -> str:
    if "refused" in q:
        return "refused"
    return f"{_n(q['median'])} [{_n(q['q1'])}, {_n(q['q3'])}]"

"""Record a learning-curve table with repeated training seeds, resumably.

    python bench/record_table.py run --out bench/tables/tiny-seeds.jsonl.gz --configs 50 \\
        --seeds 42,43,44 --minutes 9 --procs 2
    python bench/record_table.py add-study --out bench/tables/tiny-seeds.jsonl.gz \\
        --storage sqlite:///runs/real/random-1.db --study random-1
    python bench/record_table.py add-real --out bench/tables/tiny-seeds.jsonl.gz \\
        --real bench/results/real_searches.json --strategy random
    python bench/record_table.py pack --out bench/tables/tiny-seeds.jsonl.gz
    python bench/record_table.py stats --out bench/tables/tiny-seeds.jsonl.gz

``run`` draws ``--configs`` configurations from the space with a fixed random sampler
(``--config-seed``) and trains each with every training seed in ``--seeds`` at the shipped
cadence (12 evaluations a run), ``--procs`` single-threaded processes at once. Each finished run
is appended as one JSON line to ``OUT.parts/NAME.jsonl`` (git-ignored: ``pack`` copies them into
OUT, which a later ``run`` reads too, so a fresh clone resumes; a killed run leaves a partial
last line, which is ignored), and a later ``run`` skips the (configuration, seed) pairs already
there, so the recording can go on over many sessions in chunks (``--minutes``: start no run
after that). ``add-study`` appends the complete trials of a study run with ``--pruner none``
(a real random search: its runs are full runs too), ``add-real`` those of real searches that
bench/real_searches.py recorded. ``pack`` writes ``OUT`` (a
``search-table/1`` export, see search/simulate/_table.py) from the parts. ``stats`` prints what
the packed table holds (runs by source, best F1, runs ending at F1 0, the spread between a
configuration's training seeds, training and evaluation seconds apart, train examples) and its
surrogate's held-out error on a run's final F1, the error that decides which targets a replay
may report.

Each line: the table's fields (number, params, total_steps, eval_seconds, evals) plus
``source`` (``seeds`` or ``search:STUDY``), ``config`` and ``seed`` (repeated-seed runs),
``train_seconds`` and ``eval_seconds_total`` (apart), ``examples`` (train examples a run) and
``load_average`` at the run's end (seeded runs recorded after it was added).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVALS_PER_RUN = 12


def _parts(out: Path) -> Path:
    return out.with_name(out.name.replace(".jsonl.gz", "") + ".parts")


def _key(row: dict) -> tuple:
    if row["source"] == "seeds":
        return ("seeds", row["config"], row["seed"])
    return (row["source"], row["trial"])


def read_parts(out: Path) -> list[dict]:
    """The packed table's runs and every complete line of every part file (a partial last line
    is skipped), once each."""
    lines: list[str] = []
    if out.exists():
        with gzip.open(out, "rt", encoding="utf-8") as f:
            lines += f.read().splitlines()[1:]
    folder = _parts(out)
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        lines += path.read_text(encoding="utf-8").splitlines()
    rows: dict[tuple, dict] = {}
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        rows.setdefault(_key(row), row)
    return list(rows.values())


def configs(space_file: str | None, model: str, count: int, seed: int) -> list[dict]:
    """``count`` configurations drawn by Optuna's random sampler: the same for the same seed."""
    import optuna

    from search._sampling import suggest
    from search._space import load_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(space_file, model)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(count):
        trial = study.ask()
        full = suggest(trial, space, model)
        out.append({"params": dict(trial.params), "hparams": full})
        study.tell(trial, 0.0)
    return out


def _job_keys(args) -> list[tuple[int, int]]:
    seeds = [int(s) for s in args.seeds.split(",")]
    return [(c, s) for c in range(args.configs) for s in seeds]


def cmd_run(args) -> int:
    out = Path(args.out)
    done = {(r.get("config"), r.get("seed")) for r in read_parts(out) if r["source"] == "seeds"}
    todo = [k for k in _job_keys(args) if k not in done]
    print(f"{len(done)} seeded runs recorded, {len(todo)} to go", flush=True)
    if not todo or args.minutes <= 0:  # --minutes 0: only say how far it is
        return 0
    _parts(out).mkdir(parents=True, exist_ok=True)
    deadline = time.time() + args.minutes * 60
    procs = []
    for shard in range(args.procs):
        keys = ";".join(f"{c},{s}" for c, s in todo[shard :: args.procs])
        if not keys:
            continue
        cmd = [sys.executable, __file__, "_shard", "--out", str(out), "--keys", keys]
        cmd += ["--deadline", str(deadline), "--shard", str(shard)]
        cmd += ["--configs", str(args.configs), "--config-seed", str(args.config_seed)]
        cmd += ["--model", args.model]
        for flag in ("space", "train", "dev"):
            if getattr(args, flag):
                cmd += [f"--{flag}", getattr(args, flag)]
        procs.append(subprocess.Popen(cmd))
    codes = [p.wait() for p in procs]
    after = {(r.get("config"), r.get("seed")) for r in read_parts(out) if r["source"] == "seeds"}
    print(f"{len(after) - len(done)} runs added, {len(after)} seeded runs recorded", flush=True)
    return max(codes)


def cmd_shard(args) -> int:
    import torch

    torch.set_num_threads(1)
    from common._cli import quiet_libraries
    from common._paths import cache_root
    from objectives._hparams import RunSettings, hparams_from_mapping
    from objectives.data._inputs import data_paths, load_trial_data
    from objectives.training._loop import fine_tune
    from objectives.training._workspace import Workspace

    quiet_libraries()
    drawn = configs(args.space, args.model, args.configs, args.config_seed)
    train, dev, _ = data_paths(
        Path(args.train) if args.train else None, Path(args.dev) if args.dev else None, None
    )
    data = load_trial_data(train, dev)
    settings = RunSettings(model=args.model, evals_per_run=EVALS_PER_RUN, cache_dir=cache_root())
    workspace = Workspace(settings.cache_dir)
    part = _parts(Path(args.out)) / f"seeds-{os.getpid()}.jsonl"
    for key in args.keys.split(";"):
        if time.time() > args.deadline:
            break
        config, seed = (int(x) for x in key.split(","))
        chosen = drawn[config]
        hp = hparams_from_mapping({**chosen["hparams"], "seed": seed}, f"config {config}")
        result = fine_tune(hp, settings, data, workspace=workspace)
        if result.status != "complete":
            continue
        row = _row(result, chosen["params"], data)
        row.update(source="seeds", config=config, seed=seed, number=config * 1000 + seed)
        row["load_average"] = [round(x, 2) for x in os.getloadavg()]  # its seconds' context
        with part.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    return 0


def _row(result, params: dict, data) -> dict:
    evals = [
        [
            int(e["step"]),
            round(float(e["seconds"]), 3),
            int(e["examples"]),
            round(float(e["micro_f1"]), 4),
            round(float(e["auprc"]), 4),
        ]
        for e in result.evaluations
    ]
    eval_total = float(result.timings.get("eval", 0.0))
    return {
        "params": params,
        "total_steps": result.total_steps,
        "eval_seconds": round(eval_total / max(len(evals), 1), 4),
        "evals": evals,
        "train_seconds": round(float(result.timings.get("train", 0.0)), 3),
        "eval_seconds_total": round(eval_total, 3),
        "examples": evals[-1][2] if evals else 0,
        "data": {"fingerprint": data.fingerprint, "train_rows": len(data.train.examples)},
    }


def cmd_add_study(args) -> int:
    """The complete trials of a --pruner none study, as rows of this table (once each)."""
    import optuna

    from search._attrs import trial_run
    from search.simulate._table import table_from_study
    from storage._reading import open_existing

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(args.out)
    source = f"search:{args.study}"
    if any(r["source"] == source for r in read_parts(out)):
        print(f"{source} is already in {out}")
        return 0
    study = optuna.load_study(study_name=args.study, storage=open_existing(args.storage))
    table = table_from_study(study)
    runs = {t.number: trial_run(t) for t in study.trials}
    _parts(out).mkdir(parents=True, exist_ok=True)
    lines = []
    for c in table.curves:
        timings = runs[c.number].get("timings_s") or {}
        row = {
            "source": source,
            "number": c.number,
            "trial": c.number,
            "params": c.params,
            "total_steps": c.total_steps,
            "eval_seconds": round(c.eval_seconds, 4),
            "evals": [
                [int(r[0]), round(r[1], 3), int(r[2]), round(r[3], 4), round(r[4], 4)]
                for r in c.evals
            ],
            "train_seconds": round(float(timings.get("train", 0.0)), 3),
            "eval_seconds_total": round(float(timings.get("eval", 0.0)), 3),
            "examples": int(c.evals[-1, 2]),
        }
        lines.append(json.dumps(row))
    part = _parts(out) / f"{args.study}.jsonl"
    part.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} full runs of {source} added to {out}")
    return 0


def cmd_add_real(args) -> int:
    """The COMPLETE trials of real searches (bench/real_searches.py's JSON, searches of
    ``--strategy``), as full runs of this table (once each): a trial the pruner let finish ran
    its whole schedule, like every trial of a search without pruning. Only searches at the
    table's cadence belong here (search.run's; not the Trainer equivalent's)."""
    out = Path(args.out)
    have = {r["source"] for r in read_parts(out)}
    data = json.loads(Path(args.real).read_text(encoding="utf-8"))
    _parts(out).mkdir(parents=True, exist_ok=True)
    added = 0
    for search in data.get("searches", []):
        source = f"real:{search['strategy']}:{search['seed']}"
        if search["strategy"] != args.strategy or source in have:
            continue
        lines = [json.dumps(_real_row(t, source)) for t in search["trials"] if _full(t)]
        (_parts(out) / f"real-{args.strategy}-{search['seed']}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
        added += len(lines)
    print(f"{added} full runs of real {args.strategy} searches added to {out}")
    return 0


def _full(trial: dict) -> bool:
    return trial["state"] == "complete" and bool(trial.get("evals")) and bool(trial["eval_costs"])


def _real_row(trial: dict, source: str) -> dict:
    steps = sorted(int(k) for k in trial["evals"])
    evals = [
        [step, *trial["eval_costs"][str(step)], *trial["evals"][str(step)][:2]] for step in steps
    ]
    timings = trial.get("timings_s") or {}
    return {
        "source": source,
        "number": trial["number"],
        "trial": trial["number"],
        "params": trial["params"],
        "total_steps": steps[-1],  # a complete run's last evaluation is its last step
        "eval_seconds": round(float(timings.get("eval", 0.0)) / len(steps), 4),
        "evals": evals,
        "train_seconds": float(timings.get("train", 0.0)),
        "eval_seconds_total": float(timings.get("eval", 0.0)),
        "examples": int(evals[-1][2]),
    }


def cmd_pack(args) -> int:
    """Write the export: a search-table/1 header (the space's distributions), then every row."""
    from optuna.distributions import distribution_to_json

    out = Path(args.out)
    rows = read_parts(out)
    if not rows:
        print(f"{_parts(out)}: nothing recorded yet")
        return 1
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from search._sampling import suggest
    from search._space import load_space

    study = optuna.create_study()
    trial = study.ask()
    suggest(trial, load_space(args.space, args.model), args.model)
    dists = {k: distribution_to_json(d) for k, d in trial.distributions.items()}
    sources = sorted({r["source"] for r in rows})
    header = {
        "format": "search-table/1",
        "study": out.name.replace(".jsonl.gz", ""),
        "objectives": ["micro_f1", "auprc"],
        "distributions": dists,
        "metadata": {
            "model": args.model,
            "space_file": args.space or "search/tiny_space.toml",
            "evals_per_run": EVALS_PER_RUN,
            "data": rows[0].get("data"),
            "sources": {s: sum(r["source"] == s for r in rows) for s in sources},
            "command": "python bench/record_table.py (see bench/README.md)",
        },
    }
    rows.sort(key=lambda r: (r["source"], r.get("config", 0), r.get("seed", 0), r["number"]))
    for i, r in enumerate(rows):  # numbers unique across sources
        r["number"] = i
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(json.dumps(x) for x in [header, *rows]) + "\n")
    tmp.replace(out)
    print(f"{out}: {len(rows)} full runs ({header['metadata']['sources']})")
    return 0


def _spread(triples: list[list[float]]) -> dict[str, float | None]:
    """How far a configuration's training seeds land apart in final F1."""
    import numpy as np

    if not triples:
        return {"seed_range_mean": None, "seed_sd_median": None, "seed_sd_max": None}
    sds = [float(np.std(v, ddof=1)) for v in triples]
    return {
        "seed_range_mean": round(float(np.mean([max(v) - min(v) for v in triples])), 2),
        "seed_sd_median": round(float(np.median(sds)), 2),
        "seed_sd_max": round(max(sds), 2),
    }


def cmd_stats(args) -> int:
    """The packed table's figures, as bench/README.md quotes them, printed as JSON (runs recorded
    but not yet packed are left out, as they are from the surrogate fitted here)."""
    from search.simulate._surrogate import fit
    from search.simulate._table import load_table

    with gzip.open(args.out, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f.read().splitlines()[1:]]
    finals = [max(r["evals"], key=lambda e: e[3])[3] for r in rows]
    by_config: dict[int, list[float]] = {}
    for r, final in zip(rows, finals, strict=True):
        if r["source"] == "seeds":
            by_config.setdefault(r["config"], []).append(final)
    triples = [v for v in by_config.values() if len(v) >= 3]
    train = sum(float(r.get("train_seconds", 0.0)) for r in rows)
    evals = sum(float(r.get("eval_seconds_total", 0.0)) for r in rows)
    sources: dict[str, int] = {}
    for r in rows:
        kind = r["source"] if r["source"] == "seeds" else r["source"].rsplit(":", 1)[0]
        sources[kind] = sources.get(kind, 0) + 1
    error = fit(load_table(args.out)).error
    out = {
        "table": args.out,
        "runs": len(rows),
        "sources": sources,
        "configurations_with_3_seeds": len(triples),
        "best_f1": round(max(finals), 2),
        "share_ending_at_f1_0": round(sum(f == 0 for f in finals) / len(finals), 3),
        **_spread(triples),
        "train_s": round(train, 1),
        "eval_s": round(evals, 1),
        "eval_share": round(evals / (train + evals), 3) if train + evals else None,
        "train_examples": int(sum(int(r.get("examples", 0)) for r in rows)),
        "surrogate": {k: error[k] for k in ("model", "held_out", "mae_final_f1")},
    }
    print(json.dumps(out, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/record_table.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("run", "_shard", "add-study", "add-real", "pack", "stats"):
        s = sub.add_parser(name)
        s.add_argument("--out", required=True)
        s.add_argument("--model", default="tiny")
        s.add_argument("--space")
        s.add_argument("--train")
        s.add_argument("--dev")
        s.add_argument("--configs", type=int, default=50)
        s.add_argument("--config-seed", type=int, default=2200)
        if name == "run":
            s.add_argument("--seeds", default="42,43,44")
            s.add_argument("--minutes", type=float, default=9)
            s.add_argument("--procs", type=int, default=2)
        if name == "_shard":
            s.add_argument("--keys", required=True)
            s.add_argument("--deadline", type=float, required=True)
            s.add_argument("--shard", type=int, default=0)
        if name == "add-real":
            s.add_argument("--real", required=True)
            s.add_argument("--strategy", default="random")
        if name == "add-study":
            s.add_argument("--storage", required=True)
            s.add_argument("--study", required=True)
    args = p.parse_args(argv)
    run = {"run": cmd_run, "_shard": cmd_shard, "add-study": cmd_add_study, "pack": cmd_pack}
    run["add-real"], run["stats"] = cmd_add_real, cmd_stats
    return run[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

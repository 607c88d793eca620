"""How the service scales with workers on each storage, and its per-trial cost over bare Optuna.

    python bench/scaling.py         # 1, 2, 4, 8, 16 workers x sqlite, postgres, journal
    python bench/scaling.py --workers 1,2 --storages sqlite --trials-per-worker 3   # a smoke run

Every trial is the fake trial (``search.run --runner search.testing:fake_fine_tune``) at a
fixed duration, ``--seconds``
(default 2 s: one epoch at a fixed batch size, so five evaluations of ``--seconds / 5`` each, all
sleep: 16 workers on 2 cores measure the storage and the service, not the CPU), random sampling,
no pruning. For each storage and worker count ``N`` one ``search.run --workers N`` runs
``N * --trials-per-worker`` trials on a fresh storage (a new SQLite file, a new Postgres
database, a new journal file).

Throughput is measured over the steady state, not the whole run: on a small machine the N
worker processes take seconds each to start (imports), so the early ones run trials while the
late ones boot. The window opens when the last worker starts its first trial and closes when the
first worker ends its last one (all N busy in between); finished trials per second is the
trial-time inside the window divided by the trial duration, per second of window. Scaling
efficiency is ``throughput_N / (N * throughput_1)`` on the same storage. A window shorter than
two trials is reported as too short (more ``--trials-per-worker``).

Per-trial overhead: the median time from one trial's end to the next one's end in the 1-worker
run, against a bare ``study.optimize`` loop on the same kind of storage (same space, same
sampler, the same sleep, both metrics returned; no evaluations reported, no attributes, no
artifacts). Saves ``bench/results/scaling.json`` with the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import harness
import optuna
from optuna.trial import TrialState

from common._cli import quiet_libraries
from storage._opening import open_storage
from storage._urls import mask_url

STORAGES = ("sqlite", "postgres", "journal")
EVALS_PER_TRIAL = 5  # one epoch of the sample train set at batch 32, 4 evaluations an epoch + end
# Only learning rate and warm-up vary: the fake trial's length depends on epochs and batch.
SPACE = """
[learning_rate]
low = 1e-4
high = 5e-3
log = true

[warmup_ratio]
low = 0.0
high = 0.2

[num_train_epochs]
value = 1

[per_device_train_batch_size]
value = 32

[max_len]
value = 128
"""
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def fresh_storage(kind: str, tmp: Path, tag: str, postgres: str) -> Iterator[str]:
    """A storage URL nobody used before; a Postgres database is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'{tag}.db'}"
        return
    if kind == "journal":
        yield f"journal:///{tmp / f'{tag}.log'}"
        return
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    admin_url = make_url(postgres).set(drivername="postgresql")
    name = f"re_search_bench_{tag}_{secrets.token_hex(3)}".lower()
    with psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def run_service(url: str, workers: int, trials: int, seconds: float, tmp: Path) -> float:
    """``search.run --workers N`` as a user would start it; returns its wall time."""
    from search.testing import RUNNER, fake_env

    env = fake_env(seconds_per_eval=seconds / EVALS_PER_TRIAL, noise=0.5)
    cmd = [
        sys.executable, "-m", "search.run", "--runner", RUNNER,
        "--storage", url, "--study", "scaling", "--trials", str(trials),
        "--workers", str(workers), "--space", str(tmp / "space.toml"),
        "--sampler", "random", "--pruner", "none", "--seed", "0", "--quiet",
        "--artifacts", str(tmp / "artifacts"),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        print(f"  search.run exited {done.returncode}: {' | '.join(tail)}", file=sys.stderr)
    return wall


def run_bare(url: str, trials: int, seconds: float, tmp: Path) -> None:
    """A bare Optuna loop: the same space and sampler, the same sleep, both metrics returned."""
    from objectives._hparams import hparams_from_mapping
    from search._sampling import suggest
    from search._space import load_space
    from search.testing import quality

    space = load_space(str(tmp / "space.toml"), "tiny")

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        hp = hparams_from_mapping(suggest(trial, space), "trial")
        time.sleep(seconds)
        return quality(hp)

    storage = open_storage(url)
    study = optuna.create_study(
        storage=storage,
        study_name="bare",
        directions=["maximize", "maximize"],
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.optimize(objective, n_trials=trials)
    _dispose(storage)


def _dispose(storage: optuna.storages.BaseStorage) -> None:
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()


def load_trials(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    storage = open_storage(url, heartbeat_interval=None)
    trials = optuna.load_study(study_name=study, storage=storage).get_trials()
    _dispose(storage)
    return trials


def steady_state(trials: list[optuna.trial.FrozenTrial], seconds: float) -> dict:
    """Finished trials per second while every worker was busy (see the module docstring)."""
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.datetime_complete]
    by_worker: dict[str, list] = {}
    for t in done:
        by_worker.setdefault(t.user_attrs.get("worker", "?"), []).append(t)
    opens = max(min(t.datetime_start for t in ts) for ts in by_worker.values())
    closes = min(max(t.datetime_complete for t in ts) for ts in by_worker.values())
    window = (closes - opens).total_seconds()
    mean_trial = statistics.mean(
        (t.datetime_complete - t.datetime_start).total_seconds() for t in done
    )
    if window < 2 * seconds:
        return {"window_s": round(window, 2), "trials_per_s": None, "window_too_short": True}
    inside = sum(
        max(0.0, (min(t.datetime_complete, closes) - max(t.datetime_start, opens)).total_seconds())
        for t in done
    )
    # trial-seconds inside the window over one trial's own duration: finished-trial equivalents
    return {
        "window_s": round(window, 2),
        "trials_per_s": round(inside / mean_trial / window, 4),
        "mean_trial_s": round(mean_trial, 3),
        "workers_seen": len(by_worker),
    }


def per_trial_walls(trials: list[optuna.trial.FrozenTrial]) -> list[float]:
    """One worker's time from a trial's end to the next one's end: the trial plus the loop."""
    done = sorted(
        (t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.datetime_complete
    )
    return [
        (b.datetime_complete - a.datetime_complete).total_seconds()
        for a, b in itertools.pairwise(done)
    ]


def measure_storage(kind: str, args: argparse.Namespace, tmp: Path) -> dict:
    rows = []
    for n in args.workers:
        with fresh_storage(kind, tmp, f"{kind}_{n}", args.postgres) as url:
            trials_wanted = n * args.trials_per_worker
            wall = run_service(url, n, trials_wanted, args.seconds, tmp)
            trials = load_trials(url, "scaling")
        row = {
            "workers": n,
            "trials_requested": trials_wanted,
            "finished": sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials),
            "failed": sum(t.state == TrialState.FAIL for t in trials),
            "left_running": sum(t.state == TrialState.RUNNING for t in trials),
            "wall_s": round(wall, 1),
            **steady_state(trials, args.seconds),
        }
        if n == 1:
            row["per_trial_s"] = round(statistics.median(per_trial_walls(trials)), 4)
        rows.append(row)
        print(f"  {kind:8} {n:2} workers: {json.dumps(row)}", file=sys.stderr)
    base = next((r for r in rows if r["workers"] == 1 and r["trials_per_s"]), None)
    for row in rows:
        if base and row["trials_per_s"]:
            row["efficiency"] = round(
                row["trials_per_s"] / (row["workers"] * base["trials_per_s"]), 3
            )
    result = {"storage": kind, "runs": rows}
    if base:
        with fresh_storage(kind, tmp, f"{kind}_bare", args.postgres) as url:
            run_bare(url, max(args.trials_per_worker, 4), args.seconds, tmp)
            bare = statistics.median(per_trial_walls(load_trials(url, "bare")))
        ours = base["per_trial_s"]
        result["per_trial"] = {
            "ours_s": ours,
            "bare_optuna_s": round(bare, 4),
            "ratio": round(ours / bare, 3),
            "overhead_ms": round((ours - bare) * 1000, 1),
        }
    return result


def summary_lines(results: list[dict]) -> list[str]:
    lines = ["storage   workers  finished/s  efficiency  failed  window"]
    for res in results:
        for r in res["runs"]:
            rate = f"{r['trials_per_s']:.3f}" if r.get("trials_per_s") else "too short"
            eff = f"{r['efficiency']:.2f}" if "efficiency" in r else "-"
            lines.append(
                f"{res['storage']:9} {r['workers']:7}  {rate:>10}  {eff:>10}  {r['failed']:6}  "
                f"{r['window_s']:.0f} s"
            )
        if "per_trial" in res:
            p = res["per_trial"]
            lines.append(
                f"{res['storage']:9} per trial: ours {p['ours_s']:.3f} s, bare Optuna "
                f"{p['bare_optuna_s']:.3f} s: {p['ratio']:.2f}x (+{p['overhead_ms']:.0f} ms)"
            )
    return lines


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/scaling.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--workers", type=_int_list, default=[1, 2, 4, 8, 16], help="e.g. 1,2,4")
    parser.add_argument("--storages", default=",".join(STORAGES), help="sqlite,postgres,journal")
    parser.add_argument("--seconds", type=float, default=2.0, help="fake trial duration")
    parser.add_argument("--trials-per-worker", type=int, default=10)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server to create DBs on")
    parser.add_argument("--out", type=Path, default=harness.RESULTS / "scaling.json")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.storages.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in STORAGES]
    if unknown or not kinds or not args.workers or min(args.workers) < 1:
        parser.error(f"--storages from {', '.join(STORAGES)}; --workers positive integers")
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    load_start = harness.load_average()
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "space.toml").write_text(SPACE)
        for kind in kinds:
            results.append(measure_storage(kind, args, tmp))
    record = {
        "seconds_per_trial": args.seconds,
        "trials_per_worker": args.trials_per_worker,
        "sampler": "random",
        "pruner": "none",
        "postgres": mask_url(args.postgres) if "postgres" in kinds else None,
        "results": results,
        "machine": harness.machine_record(load_start),
    }
    print("\n".join(summary_lines(results)))
    out = harness.save_result(args.out, record)
    harness.print_closing(record["machine"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

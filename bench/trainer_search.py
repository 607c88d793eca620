"""A real search run as ``Trainer.hyperparameter_search(backend="optuna")`` runs one, on this
service's space and training loop: the Trainer equivalent that bench/real_searches.py records
beside the service's own searches, and that the simulator's ``trainer`` strategy replays.

    python bench/real_searches.py --strategy trainer --seeds 1-5 --runner trainer

What Trainer does, and this does:

- Optuna's ``TPESampler`` as it comes (seeded) and the study's default pruner, ``MedianPruner()``;
- one objective, micro-F1, maximized;
- each evaluation told to the trial with ``trial.report(f1, step)`` and the run stopped when
  ``trial.should_prune()`` says so (``Trainer._report_to_hp_search``);
- a trial's value is its LAST evaluation's F1 (``load_best_model_at_end`` off, Trainer's default);
- evaluation four times an epoch; the same training seed (42, ``TrainingArguments.seed``) for
  every trial; no KLUE recipe enqueued.

What it takes from the service, so that only the search differs: the space
(``search/tiny_space.toml``, all nine parameters, as the simulator's table holds them), the data,
the model and ``objectives.training.fine_tune``. Each of ``--workers`` processes opens the same
SQLite study with its own sampler seed (``search._sampling.worker_seed``, as the replays seed
their workers) and runs its share of ``--trials``, single-threaded, as search.run's CPU workers
do. Each trial stores its evaluations, their costs and its timings under the service's trial
attributes (``search._attrs``), so bench/real_searches.py reads it as it reads a search.run study.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRAINING_SEED = 42  # TrainingArguments.seed's default
EVALS_PER_EPOCH = 4  # the simulator's trainer cadence


def _worker(storage: str, study: str, trials: int, seed: int, worker: int) -> None:
    import optuna
    import torch

    from common._cli import quiet_libraries
    from common._paths import cache_root
    from objectives._hparams import RunSettings, hparams_from_mapping
    from objectives.data._inputs import data_paths, load_trial_data
    from objectives.training._loop import fine_tune
    from objectives.training._workspace import Workspace
    from search._attrs import (
        EVAL_COSTS_ATTR,
        PRUNED_AT,
        RUN_ATTR,
        set_trial_evals,
        set_trial_record,
        stored,
    )
    from search._sampling import suggest, worker_seed
    from search._space import load_space

    torch.set_num_threads(1)
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(None, "tiny")
    train, dev, _ = data_paths(None, None, None)
    data = load_trial_data(train, dev)
    settings = RunSettings(model="tiny", evals_per_epoch=EVALS_PER_EPOCH, cache_dir=cache_root())
    workspace = Workspace(settings.cache_dir)
    sampler = optuna.samplers.TPESampler(seed=worker_seed(seed, worker))
    shared = optuna.load_study(
        study_name=study, storage=storage, sampler=sampler, pruner=optuna.pruners.MedianPruner()
    )

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker)
        values = {**suggest(trial, space, "tiny"), "seed": TRAINING_SEED}
        hp = hparams_from_mapping(values, f"trial {trial.number}")

        def report(step: int, metrics: dict[str, float]) -> bool:
            trial.report(float(metrics["micro_f1"]), step)
            return not trial.should_prune()

        result = fine_tune(hp, settings, data, report=report, workspace=workspace)
        evals = result.evaluations
        set_trial_evals(trial, {str(int(e["step"])): [e["micro_f1"], e["auprc"]] for e in evals})
        costs = {str(int(e["step"])): [float(e["seconds"]), int(e["examples"])] for e in evals}
        set_trial_record(trial, EVAL_COSTS_ATTR, costs)
        timings = {k: round(float(v), 2) for k, v in result.timings.items()}
        set_trial_record(trial, RUN_ATTR, {"timings_s": timings, "status": result.status})
        if result.status == "stopped":
            set_trial_record(trial, PRUNED_AT, int(evals[-1]["step"]) if evals else 0)
            raise optuna.TrialPruned()
        return stored([evals[-1]["micro_f1"]])[0] if evals else 0.0

    shared.optimize(objective, n_trials=trials)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--storage", required=True, help="sqlite:///FILE")
    p.add_argument("--study", required=True)
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.trials < 1 or args.workers < 1:
        p.error("--trials and --workers must be at least 1")

    import optuna

    optuna.create_study(
        study_name=args.study,
        storage=args.storage,
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(),
        load_if_exists=True,
    )
    shares = [args.trials // args.workers + (w < args.trials % args.workers)
              for w in range(args.workers)]  # fmt: skip
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_worker, args=(args.storage, args.study, n, args.seed, w))
        for w, n in enumerate(shares)
        if n
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    failed = [proc.exitcode for proc in procs if proc.exitcode]
    if failed:
        print(f"trainer_search: {len(failed)} worker(s) failed (exit {failed})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())

"""``python -m search.worker CONFIG_JSON``: one worker process, as ``search.run`` starts them
(one per device, or per --workers on CPU) with the config file it wrote; the worker's loop is
:func:`search.run_worker`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna

from common._cli import ArgumentParser, configure_logging, quiet_libraries, run_main
from search._config import cpu_threads
from search._interrupts import Interrupts
from search._processes import report_stop, watch_launcher, worker_config
from search._work import run_worker
from storage._retry import StorageFull


def main(argv: list[str] | None = None) -> int:
    """``python -m search.worker CONFIG_JSON``: one worker process, started by search.run."""
    parser = ArgumentParser(
        prog="python -m search.worker",
        description="One search worker. search.run starts these (one per device) with a config "
        "file and the storage URL in the environment; run search.run, not this, by hand.",
    )
    parser.add_argument("config", type=Path, help="the config JSON that search.run wrote")
    args = parser.parse_args(argv)
    config, target = worker_config(args.config)
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # ours is the line per trial
    configure_logging("INFO")  # the worker's log file: a line per trial
    # artifacts, dashboard plots and notes are experimental in Optuna and used as documented
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    import torch

    if not torch.cuda.is_available():
        torch.set_num_threads(cpu_threads(config.deployment.workers))
    interrupts = Interrupts()
    interrupts.install()
    watch_launcher()
    try:
        return run_worker(config, target, interrupts=interrupts)
    except StorageFull as exc:
        report_stop(f"error: {exc.lines()[0]}", exc.left_running)
        raise


if __name__ == "__main__":
    run_main(main)

"""Console noise from the libraries: set once at a command's edge, never inside training code."""

from __future__ import annotations

import os
import warnings


def quiet_libraries() -> None:
    """Keep transformers' load reports and progress bars, tokenizers' fork warnings and
    Optuna's per-trial log lines off the console; errors and warnings still show."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module="accelerate")
    try:
        import optuna
    except ImportError:  # objectives/ runs without the search service too
        return
    optuna.logging.set_verbosity(optuna.logging.WARNING)

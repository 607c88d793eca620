"""Console noise from the libraries: set once at a command's edge, never inside training code."""

from __future__ import annotations

import os
import warnings


def quiet_libraries() -> None:
    """Keep transformers' load reports and progress bars and tokenizers' fork warnings off the
    console; errors still show. (The search service quiets Optuna's per-trial lines itself.)"""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module="accelerate")

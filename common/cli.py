"""The frame every command shares: user errors as one line naming the file, row, flag or field
with exit code 2, the argument parser, and console noise from the libraries (set once at a
command's edge, never inside training code)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable
from typing import NoReturn

EXIT_USAGE = 2


class UserError(Exception):
    """An error the user caused and can fix. Printed as one line; the process exits with 2."""


def run_main(
    main: Callable[[list[str] | None], int | None], argv: list[str] | None = None
) -> NoReturn:
    """Run a CLI ``main`` and turn a :class:`UserError` into one line on stderr and exit code 2.

    Any other exception is a bug and keeps its traceback.
    """
    try:
        code = main(argv)
    except UserError as exc:
        message = " ".join(str(exc).split("\n"))
        print(f"error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (``error: ... (see --help)``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def quiet_libraries() -> None:
    """Keep transformers' load reports and progress bars and tokenizers' fork warnings off the
    console; errors still show. (The search service quiets Optuna's per-trial lines itself.)"""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module="accelerate")

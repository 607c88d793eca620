"""What trains a trial: the real fine-tuning loop, or a function named by import path."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from common._cli import UserError
from search._config import REAL_RUNNER

if TYPE_CHECKING:  # the real runner's types import torch; the launcher checks a spec without it
    from search._trial import Runner


def choose_runner(spec: str) -> Runner:
    """``real`` -> :func:`objectives.training.fine_tune`; ``MODULE:FUNCTION`` -> that
    function, which must take fine_tune's arguments and return its RunResult."""
    if spec == REAL_RUNNER:
        from objectives.training._loop import fine_tune

        return fine_tune
    module_name, _, name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"--runner: cannot import {module_name!r}: {exc}") from None
    runner = getattr(module, name, None)
    if not callable(runner):
        raise UserError(f"--runner: {module_name!r} has no function {name!r}")
    return runner

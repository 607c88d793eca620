"""Model names ``--model`` takes: ``tiny``, a local directory, a hub id, and ``NAME+tapt`` (NAME
after task-adaptive pretraining on the task's own sentences, :mod:`objectives.models.tapt`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from common.cli import UserError
from objectives.models.tiny import ensure_tiny_model

TINY = "tiny"
# ``NAME+tapt``: NAME after task-adaptive pretraining on the task's own sentences
# (objectives.models.tapt)
TAPT_SUFFIX = "+tapt"


def tapt_base(name: str) -> str | None:
    """The model ``NAME+tapt`` adapts (NAME), or None for a plain model name.

    Raises a :class:`UserError` when the suffix hangs on something that is not a model name.
    """
    if not name.endswith(TAPT_SUFFIX) or Path(name).expanduser().is_dir():
        return None  # a directory named like that is a directory
    base = name[: -len(TAPT_SUFFIX)]
    if not base.strip() or base != base.strip() or TAPT_SUFFIX in base:
        raise UserError(
            f"--model {name}: '{TAPT_SUFFIX}' must follow a model name ('tiny', a local "
            f"directory or a hub id), as in tiny{TAPT_SUFFIX}"
        )
    return base


def resolve_plain(
    name: str,
    corpus: Callable[[], Iterable[str]] | None = None,
    cache_root: Path | None = None,
) -> str:
    """A name without ``+tapt`` as something ``from_pretrained`` takes: ``tiny`` builds (or
    reuses) the tiny model on ``corpus()``; an existing directory is returned as its path;
    anything else is taken for a hub id and returned unchanged."""
    if name == TINY:
        if corpus is None:
            raise UserError("--model tiny: needs training sentences to build its tokenizer")
        return str(ensure_tiny_model(corpus(), cache_root))
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name

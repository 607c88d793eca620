"""``--model`` -> what ``from_pretrained`` takes, for every kind of name (one resolver)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from common.cli import UserError
from objectives.models.names import resolve_plain, tapt_base
from objectives.models.tapt import ensure_tapt_model


def resolve_model(
    name: str,
    corpus: Callable[[], Iterable[str]] | None = None,
    cache_root: Path | None = None,
) -> str:
    """Turn ``--model`` into something ``from_pretrained`` takes.

    ``NAME+tapt`` builds (or reuses) NAME adapted to ``corpus()`` by masked-LM training
    (:mod:`objectives.models.tapt`); other names as :func:`objectives.models.names.resolve_plain`.
    """
    base = tapt_base(name)
    if base is None:
        return resolve_plain(name, corpus, cache_root)
    if corpus is None:
        raise UserError(f"--model {name}: needs the task's sentences to adapt {base} to")
    return str(ensure_tapt_model(base, list(corpus()), cache_root))

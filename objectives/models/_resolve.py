"""``--model``: the one place that tells its kinds of names apart and turns each into what
``from_pretrained`` takes.

A name is ``tiny`` (the built-in model, built on the task's own sentences), a local directory, a
hub id, or ``NAME+tapt``: NAME after task-adaptive pretraining on the task's own sentences
(:mod:`objectives.models._adapted`). :func:`parse_model` is the dispatch; :func:`resolve_model`
builds or finds the model, :func:`check_available` only checks that it can be loaded here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from common._cli import UserError
from objectives.models._adapted import ensure_tapt_model
from objectives.models._loading import known_to_hub, not_found
from objectives.models._tiny import ensure_tiny_model

TINY = "tiny"
TAPT_SUFFIX = "+tapt"
# what from_pretrained loads weights from (single files or a sharded index)
WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)

Corpus = Callable[[], Iterable[str]]


@dataclass(frozen=True)
class ModelName:
    """A parsed ``--model``: the model ``base`` of one ``kind``, adapted when ``tapt``."""

    text: str
    base: str
    kind: Literal["tiny", "directory", "hub"]
    tapt: bool


def parse_model(name: str) -> ModelName:
    """Which kind of model ``name`` names. A directory named like ``X+tapt`` is a directory.

    Raises a :class:`UserError` when ``+tapt`` hangs on something that is not a model name.
    """
    base, tapt = name, False
    if name.endswith(TAPT_SUFFIX) and not Path(name).expanduser().is_dir():
        base, tapt = name[: -len(TAPT_SUFFIX)], True
        if not base.strip() or base != base.strip() or TAPT_SUFFIX in base:
            raise UserError(
                f"--model {name}: '{TAPT_SUFFIX}' must follow a model name ('tiny', a local "
                f"directory or a hub id), as in tiny{TAPT_SUFFIX}"
            )
    if base == TINY:
        return ModelName(name, base, "tiny", tapt)
    kind = "directory" if Path(base).expanduser().is_dir() else "hub"
    return ModelName(name, base, kind, tapt)


def tapt_base(name: str) -> str | None:
    """The model ``NAME+tapt`` adapts (NAME), or None for a plain model name."""
    model = parse_model(name)
    return model.base if model.tapt else None


def resolve_model(name: str, corpus: Corpus | None = None, cache_root: Path | None = None) -> str:
    """Turn ``--model`` into something ``from_pretrained`` takes.

    ``tiny`` builds (or reuses) the tiny model on ``corpus()``; a directory is its path; a hub id
    is returned unchanged; ``NAME+tapt`` builds (or reuses) NAME adapted to ``corpus()``.
    """
    model = parse_model(name)
    if not model.tapt:
        return resolve_base(model, corpus, cache_root)[0]
    if corpus is None:
        raise UserError(f"--model {name}: needs the task's sentences to adapt {model.base} to")
    sentences = list(corpus())
    path, identity = resolve_base(model, lambda: sentences, cache_root)
    return str(ensure_tapt_model(model.base, path, identity, sentences, cache_root))


def resolve_base(
    model: ModelName, corpus: Corpus | None = None, cache_root: Path | None = None
) -> tuple[str, str]:
    """The path of ``model.base`` for ``from_pretrained``, and its identity for cache keys (the
    tiny model's fingerprinted directory name, a directory's absolute path, a hub id)."""
    if model.kind == "tiny":
        if corpus is None:
            raise UserError(
                f"--model {model.text}: needs training sentences to build its tokenizer"
            )
        path = ensure_tiny_model(corpus(), cache_root)
        return str(path), path.name
    if model.kind == "directory":
        path = Path(model.base).expanduser()
        return str(path), str(path.resolve())
    return model.base, model.base


def check_available(name: str) -> None:
    """Raise :class:`UserError` unless ``name`` is 'tiny', a directory with a config and weights,
    a hub id in the local cache or on a reachable hub, or ``NAME+tapt`` of one of these; nothing
    is loaded or built."""
    model = parse_model(name)
    if model.kind == "directory":
        path = Path(model.base).expanduser()
        if not (path / "config.json").is_file():
            raise UserError(f"--model {model.base}: the directory has no config.json")
        if not any((path / f).is_file() for f in WEIGHT_FILES):
            raise UserError(
                f"--model {model.base}: the directory has no weights "
                f"({', '.join(WEIGHT_FILES[:2])})"
            )
    elif model.kind == "hub" and not known_to_hub(model.base):
        raise not_found(model.base)

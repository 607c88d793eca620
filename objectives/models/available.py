"""Whether ``--model`` names a model that can be loaded here, checked without loading it.

A search resolves its model before it writes anything: a hub id that is neither cached nor
reachable, or a directory without weights, is one line and exit code 2 at the start, not a
failure inside every worker after the study exists.
"""

from __future__ import annotations

from pathlib import Path

from common.cli import UserError
from objectives.models.loading import _hub_has
from objectives.models.names import TINY, tapt_base

# what from_pretrained loads weights from (single files or a sharded index)
WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)


def check_available(name: str) -> None:
    """Raise :class:`UserError` unless ``name`` is 'tiny', a directory with a config and weights,
    a hub id in the local cache or on a reachable hub, or ``NAME+tapt`` of one of these."""
    base = tapt_base(name)
    if base is not None:
        check_available(base)
        return
    if name == TINY:
        return
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"--model {name}: the directory has no config.json")
        if not any((path / f).is_file() for f in WEIGHT_FILES):
            raise UserError(
                f"--model {name}: the directory has no weights ({', '.join(WEIGHT_FILES[:2])})"
            )
        return
    if _in_cache(name) or _hub_has(name):
        return
    raise UserError(
        f"--model {name}: not a local directory, and not found on the hub or in the local "
        "cache; pass a local path or 'tiny'"
    )


def _in_cache(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid repository id
        return False
    return isinstance(found, str)

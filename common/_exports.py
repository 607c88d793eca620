"""A package's public face: the names it exports, imported from their modules on first use.

Each package's ``__init__`` lists what users may import (``__all__``) and where each lives; a
name is imported when first asked for, so ``import search`` (and every ``python -m search.X``)
stays as cheap as before, and no module inside a package imports the package itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that imports ``name`` from ``exports[name]``."""

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__

"""The Python API reference: each package's face, the names in its ``__all__``, with their
signatures and docstrings, read from the imported package at build time."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from docsgen.markdown import docstring, table
from docsgen.sources import PACKAGES, ROOT

GENERATED = "<!-- generated from the packages' __all__ by docsgen; do not edit -->\n"


def faces() -> dict[str, list[str]]:
    """Every package and subpackage with an ``__all__``, and its names."""
    found = {}
    for top in PACKAGES:
        names = [top] + [
            info.name
            for info in pkgutil.walk_packages([str(ROOT / top)], prefix=f"{top}.")
            if info.ispkg and not info.name.rpartition(".")[2].startswith("_")
        ]
        for name in names:
            module = importlib.import_module(name)
            if hasattr(module, "__all__"):
                found[name] = list(module.__all__)
    return found


def page_path(package: str) -> str:
    return f"reference/api/{package}.md"


def index_page(found: dict[str, list[str]]) -> str:
    rows = [
        [f"[`{name}`]({name}.md)", _summary(importlib.import_module(name)), len(names)]
        for name, names in found.items()
    ]
    text = (
        GENERATED + "# Python API\n\nWhat each package shows: the names in its `__all__`, the only "
        "ones meant for import from outside it; everything else is private.\n\n"
    )
    if not rows:
        return text + "No package declares `__all__` yet.\n"
    return text + table(["package", "what it is", "names"], rows)


def package_page(package: str, names: list[str]) -> str:
    module = importlib.import_module(package)
    text = [GENERATED, f"# `{package}`\n\n", docstring(inspect.getdoc(module)), "\n\n"]
    for name in names:
        text.append(_entry(package, name, _member(module, name)))
    return "".join(text)


def _entry(package: str, name: str, value: object) -> str:
    if inspect.ismodule(value):
        head = f"module {value.__name__}"
    elif inspect.isclass(value):
        head = f"class {name}{_signature(value).removesuffix(' -> None')}"
    elif callable(value):
        head = f"{name}{_signature(value)}"
    else:
        shown = repr(value)
        head = f"{name} = {shown if len(shown) <= 200 else shown[:200] + ' ...'}"
    text = f"## `{name}`\n\n```python\n{head}\n```\n\n"
    documented = inspect.isclass(value) or inspect.ismodule(value) or callable(value)
    doc = inspect.getdoc(value) if documented else None
    text += docstring(doc) + "\n\n" if doc else ""
    if inspect.isclass(value):
        text += _methods(value)
    return text


def _member(module, name: str) -> object:
    """A name of ``__all__``: an attribute, or a submodule the package does not import itself."""
    if hasattr(module, name):
        return getattr(module, name)
    return importlib.import_module(f"{module.__name__}.{name}")


def _methods(cls: type) -> str:
    rows = []
    for name, member in vars(cls).items():
        if name.startswith("_") or not (callable(member) or isinstance(member, property)):
            continue
        own = member.fget.__doc__ if isinstance(member, property) else member.__doc__
        doc = inspect.cleandoc(own or "").split("\n\n")[0]  # its own, not the base class's
        signature = _signature(member).replace("(self, ", "(").replace("(self)", "()")
        shown = name if isinstance(member, property) else f"{name}{signature}"
        rows.append([f"`{shown}`", docstring(doc)])
    return table(["member", "what it does"], rows) + "\n" if rows else ""


def _signature(value: object) -> str:
    try:
        return str(inspect.signature(value)).replace("'", "")
    except (TypeError, ValueError):
        return "(...)"


def _summary(module: object) -> str:
    return docstring((inspect.getdoc(module) or "").split("\n\n")[0])

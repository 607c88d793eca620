"""A command's argparse parser, taken from the command itself: its ``__main__`` is run until it
parses its arguments, so the reference needs no list of parser functions that a rename breaks."""

from __future__ import annotations

import argparse
import ast
import runpy
import sys
import warnings
from functools import cache

from docsgen.sources import PACKAGES, ROOT


class _Parsed(BaseException):
    """Raised by the first parse: carries the parser out of the command's ``main``."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__()
        self.parser = parser


@cache
def parser_of(command: str) -> argparse.ArgumentParser:
    """The parser ``python -m command`` builds; nothing past its argument parsing runs."""

    def capture(self, args=None, namespace=None):
        raise _Parsed(self)

    original, argv = argparse.ArgumentParser.parse_known_args, sys.argv
    argparse.ArgumentParser.parse_known_args = capture  # type: ignore[method-assign]
    sys.argv = [command]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # runpy: module already imported
            runpy.run_module(command, run_name="__main__", alter_sys=False)
    except _Parsed as parsed:
        return parsed.parser
    finally:
        argparse.ArgumentParser.parse_known_args = original  # type: ignore[method-assign]
        sys.argv = argv
    raise LookupError(f"python -m {command} returned without parsing its arguments")


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every flag (``--trials``, ``-v``) and positional name the parser takes, help left out."""
    names = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        names += action.option_strings or [action.dest]
    return names


def modules_with_main() -> list[str]:
    """Every module of the packages that runs as ``python -m``: a ``__main__.py`` or a module
    with an ``if __name__ == "__main__"`` block."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":
                found.append(".".join(parts[:-1]))
            elif _has_main_block(path):
                found.append(".".join(parts))
    return found


def _has_main_block(path) -> bool:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
    return False

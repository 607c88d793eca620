"""The command-line reference: one page per command, written from its argparse parser."""

from __future__ import annotations

import argparse

from docsgen.commands import parser_of
from docsgen.markdown import cell, code, docstring, table
from docsgen.sources import COMMANDS

GENERATED = "<!-- generated from the command's argparse parser by docsgen; do not edit -->\n"


def page_path(command: str) -> str:
    return f"reference/cli/{command}.md"


def index_page() -> str:
    rows = []
    for command in COMMANDS:
        parser = parser_of(command)
        summary = docstring(_first_line(parser.description))
        rows.append([f"[`python -m {command}`]({command}.md)", summary])
    return (
        GENERATED
        + "# Commands\n\nEvery command, with each flag as its `--help` gives it. Long options "
        "take either spelling, `--min-resource` or `--min_resource`.\n\n"
        + table(["command", "what it does"], rows)
    )


def command_page(command: str) -> str:
    parser = parser_of(command)
    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        rows.append([_flags(action), _value(action), _help(formatter, action)])
    usage = parser.format_usage().removeprefix("usage: ")
    text = [GENERATED, f"# `python -m {command}`\n\n", docstring(parser.description) + "\n\n"]
    text += [code(usage), "\n", table(["flag", "value", "what it does"], rows)]
    if parser.epilog:
        text += ["\n", code(parser.epilog)]
    return "".join(text)


def _flags(action: argparse.Action) -> str:
    names = action.option_strings or [action.dest]
    return ", ".join(f"`{name}`" for name in names)


def _value(action: argparse.Action) -> str:
    if action.choices:
        return ", ".join(f"`{choice}`" for choice in action.choices)
    if action.nargs == 0:
        return ""
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return f"`{metavar}`" + (" ..." if action.nargs in ("+", "*") else "")


def _help(formatter: argparse.HelpFormatter, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return cell(formatter._expand_help(action))


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text else ""

"""The frame every command shares: user errors as one line naming the file, row, flag or field
with exit code 2, the argument parser, and console noise from the libraries (set once at a
command's edge, never inside training code)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

EXIT_USAGE = 2


class UserError(Exception):
    """An error the user caused and can fix. Printed as one line; the process exits with 2."""

    def lines(self) -> list[str]:
        return [" ".join(str(self).split("\n"))]


MAX_ROW_ERRORS = 20


class RowErrors(UserError):
    """The bad rows of one file, collected so that one run shows them all: up to
    ``MAX_ROW_ERRORS`` one-line messages, then how many more there are."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.source = source
        self.messages: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.messages) < MAX_ROW_ERRORS:
            self.messages.append(" ".join(message.split("\n")))

    def raise_if_any(self) -> None:
        if self.count:
            raise self

    def lines(self) -> list[str]:
        if self.count == 1:
            return list(self.messages)
        rest = self.count - len(self.messages)
        more = [f"{self.source}: and {rest} more bad rows"] if rest else []
        return [f"{self.source}: {self.count} bad rows", *self.messages, *more]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def run_main(
    main: Callable[[list[str] | None], int | None], argv: list[str] | None = None
) -> NoReturn:
    """Run a CLI ``main`` and turn a :class:`UserError` into one line on stderr and exit code 2.

    Any other exception is a bug and keeps its traceback.
    """
    try:
        code = main(argv)
    except UserError as exc:
        # stderr may be a log file on the disk that filled up: the exit status still says it
        with contextlib.suppress(OSError):
            for line in exc.lines():
                print(f"error: {line}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default, where it has one that its text does not give."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (``error: ... (see --help)``) and exit code 2,
    and ``--help`` showing defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        """Long options in either spelling: ``--min-resource`` or ``--min_resource``."""
        given = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args([self._spelled(arg) for arg in given], namespace)

    def _spelled(self, arg: str) -> str:
        if not arg.startswith("--") or arg == "--":
            return arg
        name, sep, value = arg.partition("=")
        if name in self._option_string_actions:
            return arg
        for other in (name.replace("_", "-"), "--" + name[2:].replace("-", "_")):
            if other in self._option_string_actions:
                return other + sep + value
        return arg


def quiet_libraries() -> None:
    """Keep transformers' load reports and progress bars and tokenizers' fork warnings off the
    console; errors still show. (The search service quiets Optuna's per-trial lines itself.)"""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module="accelerate")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# between INFO and WARNING: what a command says once at its start (the label set it uses, the
# study it adds to), shown by default; a line per trial is INFO, shown with -v
NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")
LOG_LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR")


def add_log_flags(parser: argparse.ArgumentParser) -> None:
    """``--log-level`` and its short forms ``-v`` (INFO: a line per trial) and ``--debug``."""
    parser.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, help="default NOTICE; -v is INFO"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log a line per trial start and end"
    )


def log_level(args: argparse.Namespace) -> str:
    return args.log_level or ("INFO" if args.verbose else "NOTICE")


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each line (redirected or captured since)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr


def configure_logging(level: str, stream: Any = None) -> None:
    """The command's log lines, with timestamps, to ``stream`` (stderr); set once at its edge."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_user_errors_in_one_line)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if "optuna" in sys.modules:  # its own stderr handler would bypass this format and filter
        import optuna

        optuna.logging.disable_default_handler()
        optuna.logging.enable_propagation()
    # the libraries stay at WARNING whatever the project's level (their INFO is per request:
    # botocore's "Found credentials in environment variables", one per client)
    for name in ("optuna", "httpx", "urllib3", "filelock", "botocore", "boto3", "s3transfer"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _user_errors_in_one_line(record: logging.LogRecord) -> bool:
    """A logged exception the user can fix (a trial failed by an unreachable artifact store,
    which Optuna logs with its traceback) is its one-line message, which the record carries."""
    if record.exc_info and isinstance(record.exc_info[1], UserError):
        record.exc_info = None
        record.exc_text = None
    return True

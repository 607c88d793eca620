"""``python -m search.dashboard --storage URL``: optuna-dashboard for any storage the search uses.

The storage is opened by the project's one dispatcher (``storage.opening.open_storage``), so every
URL ``search.run`` accepts works here: SQLite, Postgres, MySQL, a journal file, Redis with a key
prefix, a gRPC storage proxy. It is served by optuna-dashboard's ``run_server``, on loopback
unless ``--host`` says otherwise. :func:`watch_commands` gives the lines ``search.run`` prints.
"""

from __future__ import annotations

import logging
from pathlib import Path

from optuna.artifacts import FileSystemArtifactStore

from common.cli import ArgumentParser, UserError, quiet_libraries, run_main
from storage.reading import open_existing
from storage.urls import artifact_dir_for, default_storage_url, mask_url, storage_kind

log = logging.getLogger(__name__)
_STOCK_KINDS = ("sqlite", "postgresql", "mysql")


def stock_command(url: str, artifacts: str | Path | None) -> str | None:
    """The exact ``optuna-dashboard`` command for ``url``, where the stock tool can open it."""
    kind = storage_kind(url)
    flag = f" --artifact-dir {artifacts}" if artifacts else ""
    if kind in _STOCK_KINDS:
        return f"optuna-dashboard {mask_url(url)}{flag}"
    if kind == "journal-file":  # the stock tool takes a journal as a bare path
        return f"optuna-dashboard {url.removeprefix('journal:///')}{flag}"
    if kind == "journal-redis" and "prefix=" not in url:
        return f"optuna-dashboard {mask_url(url)}{flag}"
    return None  # a Redis key prefix, a gRPC proxy: only search.dashboard opens them


def watch_commands(url: str, artifacts: str | Path | None) -> list[str]:
    """``search.dashboard``'s command for ``url``, then the stock one where there is one."""
    ours = f"python -m search.dashboard --storage {mask_url(url)}"
    if artifacts:
        ours += f" --artifact-dir {artifacts}"
    stock = stock_command(url, artifacts)
    return [ours, *([f"or: {stock}"] if stock else [])]


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.dashboard",
        description="Serve optuna-dashboard for a search's storage (any URL search.run takes).",
    )
    p.add_argument("--storage", help="the search's storage URL (default: searches.db here)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--artifact-dir", type=Path, help="trial predictions (default: by the storage)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.storage or default_storage_url()
    if not 0 < args.port < 65536:
        raise UserError(f"--port: {args.port} is not a TCP port")
    quiet_libraries()
    storage = open_existing(url)  # a mistyped file is named, not created empty
    directory = args.artifact_dir or artifact_dir_for(url)
    artifacts = FileSystemArtifactStore(str(directory)) if directory.is_dir() else None
    from optuna_dashboard import run_server

    log.warning("serving %s on http://%s:%d/", mask_url(url), args.host, args.port)
    run_server(storage, host=args.host, port=args.port, artifact_store=artifacts)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    run_main(main)

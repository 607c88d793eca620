"""``python -m search.dashboard``: optuna-dashboard over a search's storage and artifact store.

The storage is opened by the project's one dispatcher, so every URL ``search.run`` accepts works
here: SQLite, Postgres, MySQL, a journal file, Redis with a key prefix, a gRPC storage proxy.
optuna-dashboard's own command reads artifacts from a directory only; this one serves them from
any ``--artifacts`` location (a directory or ``s3://BUCKET/PREFIX``), by default the one the
storage's studies record. It is optuna-dashboard's application with the live curves first on the
study page (``search._dashboard_layout``), on loopback unless ``--host`` says otherwise, and
imports neither torch nor transformers, so it runs from a slim
image. ``search.run`` prints the commands that open it (``search._watch``).
"""

from __future__ import annotations

import logging

import optuna

from common._cli import ArgumentParser, UserError, quiet_libraries, run_main
from storage._artifacts import ARTIFACTS_ATTR, choose, open_artifact_store
from storage._reading import open_existing
from storage._urls import artifact_dir_for, default_storage_url, mask_url

log = logging.getLogger(__name__)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.dashboard",
        description="optuna-dashboard for a search (any storage search.run takes), with its "
        "trials' predictions.",
    )
    p.add_argument("--storage", help="the search's storage URL (default: sqlite:///searches.db)")
    p.add_argument(
        "--artifacts",
        "--artifact-dir",
        help="DIR or s3://BUCKET/PREFIX (default: what the studies record)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    return p


def saved_locations(storage: optuna.storages.BaseStorage) -> set[str]:
    """The artifact locations the storage's studies record."""
    found = set()
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        location = summary.user_attrs.get(ARTIFACTS_ATTR)
        if location:
            found.add(location)
    return found


def choose_location(flag: str | None, storage: optuna.storages.BaseStorage, url: str) -> str:
    """The flag; else the one location the studies record; else the storage's default."""
    recorded = saved_locations(storage)
    if not flag and len(recorded) > 1:
        raise UserError(
            f"--artifacts: the studies in {mask_url(url)} record different artifact stores "
            f"({', '.join(sorted(recorded))}); give the one to serve"
        )
    return choose(flag, next(iter(recorded), None), artifact_dir_for(url))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 < args.port < 65536:
        raise UserError(f"--port: {args.port} is not a TCP port")
    quiet_libraries()
    url = args.storage or default_storage_url()
    storage = open_existing(url)  # a mistyped file is named, not created empty
    location = choose_location(args.artifacts, storage, url)
    store = open_artifact_store(location, create=True)
    from bottle import run  # optuna-dashboard's own server, as its run_server uses it
    from optuna_dashboard import wsgi

    from search._dashboard_layout import live_first

    log.warning(
        "optuna-dashboard for %s, artifacts in %s: http://%s:%d/",
        mask_url(url),
        location,
        args.host,
        args.port,
    )
    run(live_first(wsgi(storage, artifact_store=store)), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    run_main(main)

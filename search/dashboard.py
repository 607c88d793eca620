"""``python -m search.dashboard``: optuna-dashboard over a search's storage and artifact store.

optuna-dashboard's own command reads artifacts from a directory only; this one serves them from
any ``--artifacts`` location (a directory or ``s3://BUCKET/PREFIX``), by default the one the
storage's studies record. It imports neither torch nor transformers, so it runs from a slim image.
"""

from __future__ import annotations

import optuna

from common.cli import ArgumentParser, UserError, run_main
from storage.artifacts import ARTIFACTS_ATTR, choose, open_artifact_store
from storage.reading import open_existing
from storage.urls import artifact_dir_for, default_storage_url, mask_url


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m search.dashboard",
        description="optuna-dashboard for a search, with its trials' predictions.",
    )
    p.add_argument("--storage", help="the search's storage URL (default: sqlite:///searches.db)")
    p.add_argument(
        "--artifacts", help="DIR or s3://BUCKET/PREFIX (default: what the studies record)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    return p


def recorded_locations(storage: optuna.storages.BaseStorage) -> set[str]:
    """The artifact locations the storage's studies record."""
    found = set()
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        location = summary.user_attrs.get(ARTIFACTS_ATTR)
        if location:
            found.add(location)
    return found


def choose_location(flag: str | None, storage: optuna.storages.BaseStorage, url: str) -> str:
    """The flag; else the one location the studies record; else the storage's default."""
    recorded = recorded_locations(storage)
    if not flag and len(recorded) > 1:
        raise UserError(
            f"--artifacts: the studies in {mask_url(url)} record different artifact stores "
            f"({', '.join(sorted(recorded))}); give the one to serve"
        )
    return choose(flag, next(iter(recorded), None), artifact_dir_for(url))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from optuna_dashboard import run_server

    url = args.storage or default_storage_url()
    storage = open_existing(url)
    location = choose_location(args.artifacts, storage, url)
    store = open_artifact_store(location, create=True)
    print(
        f"optuna-dashboard for {mask_url(url)}, artifacts in {location}: "
        f"http://{args.host}:{args.port}/",
        flush=True,
    )
    run_server(storage, host=args.host, port=args.port, artifact_store=store)
    return 0


if __name__ == "__main__":
    run_main(main)

"""The commands that watch a search, as ``search.run`` prints them: ``python -m search.dashboard``
for every storage, and the stock ``optuna-dashboard`` where it can open the storage.
"""

from __future__ import annotations

from pathlib import Path

from storage._urls import mask_url, storage_kind

_STOCK_KINDS = ("sqlite", "postgresql", "mysql")


def stock_command(url: str, artifacts: str | Path | None) -> str | None:
    """The exact ``optuna-dashboard`` command for ``url``, where the stock tool can open it."""
    kind = storage_kind(url)
    local = artifacts and not str(artifacts).startswith("s3://")
    flag = f" --artifact-dir {artifacts}" if local else ""
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
        ours += f" --artifacts {artifacts}"
    stock = stock_command(url, artifacts)
    return [ours, *([f"or: {stock}"] if stock else [])]


def watch_line(url: str, artifacts: str | Path | None) -> str:
    """The commands that watch this search, as one line for the search's start; the note on the
    password only where one was masked."""
    line = "watch it: " + "; ".join(watch_commands(url, artifacts))
    return line + (f" ({MASKED_NOTE})" if mask_url(url) != url else "")


MASKED_NOTE = "the password is masked; use your full URL"

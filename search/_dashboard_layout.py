"""The study page of ``search.dashboard`` with the live curves first.

optuna-dashboard places user-defined plots in half-width cards below the Pareto front, the history
and the importance plots: about 1,700 px down, under plots that are empty while the first trials
run. ``search.dashboard`` serves the same application with a style sheet added to its page that
moves the running trials' card, then the card of every trial's curves, to the top, at full width.
Nothing else changes; the stock ``optuna-dashboard`` command shows the stock layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from search.analysis._curves import GRAPH_ID, RUNNING_ID


def _card(graph_id: str) -> str:
    return f".MuiGrid-root:has(> .MuiCard-root #user-defined-plot\\:{graph_id})"


_FULL = "flex-basis:100%;max-width:100%;padding:16px 0 0 16px"
STYLE = (
    "<style>/* search.dashboard: the live curves first */"
    f".MuiGrid-container:has(#user-defined-plot\\:{RUNNING_ID}),"
    f".MuiGrid-container:has(#user-defined-plot\\:{GRAPH_ID}){{order:-1;margin-top:0}}"
    f"{_card(RUNNING_ID)}{{order:-2;{_FULL}}}"
    f"{_card(GRAPH_ID)}{{order:-1;{_FULL}}}"
    "</style>"
)

App = Callable[[dict, Callable], Iterable[bytes]]


def live_first(app: App, style: str = STYLE) -> App:
    """``app`` (a WSGI application) with ``style`` added to the head of its HTML pages."""

    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: None  # write() is not used by bottle

        body = app(environ, capture)
        headers = seen["headers"]
        html = any(k.lower() == "content-type" and v.startswith("text/html") for k, v in headers)
        if not html:
            start_response(seen["status"], headers, seen["exc_info"])
            return body
        try:
            page = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        page = page.replace(b"</head>", style.encode() + b"</head>", 1)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(page))))
        start_response(seen["status"], headers, seen["exc_info"])
        return [page]

    return wrapped

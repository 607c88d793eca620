"""The built site in a real browser: headless Chromium opens the home page, the tutorial and a
reference page from a local HTTP server and screenshots each; the test checks what a reader
must see there (the navigation, the tutorial's first command, the flags' table).

Set ``RE_SEARCH_DOCS_SCREENSHOTS=DIR`` to keep the pictures there (``docs/site-home.png`` is the
home page's, committed); by default they go to the test's temporary directory.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import server_missing

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)
# page under the site, what its screenshot is called, text the reader must see on it
PAGES = (
    ("", "site-home.png", "Where to start"),
    ("tutorial/", "site-tutorial.png", "python -m objectives.sample --out data"),
    ("reference/cli/search.run/", "site-reference.png", "--min-resource"),
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def _served(directory: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _chrome() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="re-search-chrome-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def test_the_site_reads_in_a_browser(site, tmp_path):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    if missing:
        server_missing(f"no browser for the site's screenshots: {', '.join(missing)} missing")
    from selenium.webdriver.common.by import By

    out = Path(os.environ.get("RE_SEARCH_DOCS_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    with _served(site) as base, _chrome() as driver:
        for path, name, expected in PAGES:
            driver.get(base + path)
            body = driver.find_element(By.TAG_NAME, "body").text
            assert expected in body, f"{path or 'home'}: {expected!r} not shown"
            nav = driver.find_elements(By.CSS_SELECTOR, "nav.md-nav--primary a")
            assert len(nav) > 20, f"{path or 'home'}: the navigation is missing"
            assert driver.execute_script("return document.styleSheets.length") > 0
            assert driver.save_screenshot(str(out / name))
            assert (out / name).stat().st_size > 20_000, name

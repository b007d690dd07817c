"""Browser-test fixtures: the real Flask app behind a real HTTP server, driven by Debian's headless Chromium.

Playwright only talks to the browser; it never downloads one (`executable_path` is Debian's chromium).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1280, "height": 860}
TIMEOUT_MS = 8000


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for these tests (skipped without it, except on CI where .ci/run installs it)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
        pytest.skip(f"{CHROMIUM} not found: `apt-get install chromium` to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app on a real threaded HTTP server on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web-ui-test-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server):
    """A fresh page on the live server; fails the test on any JavaScript error or failed request."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
           if msg.type == "error" and "status of 4" not in msg.text else None)
    tab.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} {req.failure}")
           if "ERR_ABORTED" not in (req.failure or "") else None)
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture
def screenshot():
    """Save a PNG of the page (or of one element) under docs/, overwriting the previous run's."""
    DOCS.mkdir(exist_ok=True)

    def _shot(target, name: str, **kwargs) -> Path:
        path = DOCS / name
        target.screenshot(path=str(path), **kwargs)
        return path
    return _shot

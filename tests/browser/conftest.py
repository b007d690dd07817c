"""Browser-test fixtures: the real Flask app behind a real HTTP server, driven by Debian's headless Chromium.

Playwright only talks to the browser; it never downloads one (`executable_path` is Debian's chromium).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1280, "height": 860}
TIMEOUT_MS = 8000
# Installed before any page script (not subject to the page's CSP): every violation the browser reports fails the test.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) =>
  window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${e.sample || ""}`));"""


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
def ui_key(conn) -> str:
    """An admin API key for the browser (made with the key service, as `python -m app api-keys create`)."""
    from app.services.api_keys import create_key

    return create_key(conn, "ui-admin")[1]


@pytest.fixture
def context(browser, live_server):
    """A fresh browser profile (cookies, sessionStorage) on the live server."""
    browser_context = browser.new_context(viewport=VIEWPORT, base_url=live_server)
    browser_context.set_default_timeout(TIMEOUT_MS)
    yield browser_context
    browser_context.close()


@pytest.fixture
def anonymous_page(context):
    """A page not signed in; fails the test on any JavaScript error, CSP violation or failed request."""
    tab = context.new_page()
    problems: list[str] = []
    tab.expose_function("reportCspViolation", lambda text: problems.append(f"CSP violation: {text}"))
    tab.add_init_script(CSP_LISTENER)
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
           if msg.type == "error" and "status of 4" not in msg.text else None)
    tab.on("requestfailed", lambda req: problems.append(f"request failed: {req.url} {req.failure}")
           if "ERR_ABORTED" not in (req.failure or "") else None)
    yield tab
    tab.close()
    assert not problems, problems


@pytest.fixture
def page(anonymous_page, ui_key):
    """A page signed in through the real sign-in page with an admin key, left on about:blank (the tab keeps the key)."""
    sign_in(anonymous_page, ui_key)
    anonymous_page.goto("about:blank")
    return anonymous_page


def sign_in(tab, key: str, path: str = "/") -> None:
    """Sign in on /signin (asking to return to `path`) and wait until that page has loaded."""
    tab.goto(f"/signin?next={quote(path, safe='')}")
    tab.fill("#key", key)
    tab.click("#signin-submit")
    tab.wait_for_url(lambda url: urlsplit(url).path == path)
    tab.locator("body[data-loaded=true]").wait_for(state="attached")


@pytest.fixture
def screenshot():
    """Save a PNG of the page (or of one element) under docs/, overwriting the previous run's."""
    DOCS.mkdir(exist_ok=True)

    def _shot(target, name: str, **kwargs) -> Path:
        path = DOCS / name
        target.screenshot(path=str(path), **kwargs)
        return path
    return _shot

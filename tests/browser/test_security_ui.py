"""Every page under its Content-Security-Policy in a real browser (no violation reported), and /rq by the cookie."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from rq import Queue

pytestmark = pytest.mark.browser

SITE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# page -> a selector that appears once its scripts have run
OUR_PAGES = {
    "/": "body[data-loaded=true]",
    "/positions": "body[data-loaded=true]",
    "/approvals": "body[data-loaded=true]",
    "/performance": "body[data-loaded=true]",
    "/backtest": "body[data-loaded=true]",
    "/docs": "body[data-loaded=true] .swagger-ui .info",
}
RQ_PAGES = {
    "/rq/": "#queues tr[data-role=queue]",
    "/rq/0/view/workers": "#workers td",
    "/rq/0/view/jobs/default/queued/8/asc/1": "#jobs tr[data-role=job]",
}


@pytest.fixture
def queued_job(redis_conn):
    """One job waiting on the `default` queue (never run: no worker in these tests)."""
    return Queue("default", connection=redis_conn).enqueue("math.sqrt", 4)


def test_our_pages_run_under_the_site_policy(page, ui_key):
    for path, ready in OUR_PAGES.items():
        response = page.goto(path)
        assert response.headers["content-security-policy"] == SITE_POLICY, path
        assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
        expect(page.locator(ready).first).to_be_attached()
    # the docs page is authorized with the key kept at sign-in
    assert page.evaluate("window.ui.authSelectors.authorized().toJS().bearerAuth.value") == ui_key


def test_the_sign_in_page_runs_under_the_site_policy(anonymous_page):
    response = anonymous_page.goto("/signin")
    assert response.headers["content-security-policy"] == SITE_POLICY
    expect(anonymous_page.locator("body[data-loaded=true]")).to_be_attached()


def test_the_queue_dashboard_works_with_the_sign_in_cookie_under_its_own_policy(page, queued_job):
    for path, ready in RQ_PAGES.items():
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy and "script-src 'self' 'unsafe-eval' 'sha256-" in policy, policy
        expect(page.locator(ready).first).to_be_attached()
    expect(page.locator(f"tr[data-job-id='{queued_job.id}']")).to_be_visible()

    # a state change from the dashboard itself (same origin, cookie-authenticated) goes through
    page.click("#compact-btn")
    with page.expect_response(lambda r: r.url.endswith("/rq/queue/default/compact")) as compacted:
        page.click("#confirmation-modal-yes")
    assert compacted.value.status == 200

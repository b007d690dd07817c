"""Sign-in in a real browser: the key is asked for, kept for the tab, sent on every call; a 401 returns here."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from app.core.states import KeyRole
from app.services.api_keys import create_key, revoke_key
from tests.factories import WALLET_ALIAS, buy_body

pytestmark = pytest.mark.browser

STORED_KEY = "sessionStorage.getItem('tw.apiKey')"


def wait_for_path(tab: Page, path: str) -> None:
    tab.wait_for_url(lambda url: urlsplit(url).path == path)


def next_param(tab: Page) -> str:
    return parse_qs(urlsplit(tab.url).query)["next"][0]


def submit_key(tab: Page, key: str) -> None:
    tab.fill("#key", key)
    tab.click("#signin-submit")


def test_a_visit_without_a_key_signs_in_first_and_comes_back(anonymous_page, ui_key, screenshot):
    tab = anonymous_page
    tab.goto("/positions#closed")
    wait_for_path(tab, "/signin")
    assert next_param(tab) == "/positions#closed"
    expect(tab.locator("#signin-notice")).to_have_count(0)
    expect(tab.locator("#key")).to_be_focused()
    screenshot(tab, "signin.png")

    submit_key(tab, ui_key)
    wait_for_path(tab, "/positions")
    expect(tab.locator("body[data-loaded=true]")).to_be_attached()
    expect(tab.locator("#tab-CLOSED")).to_have_attribute("aria-selected", "true")
    expect(tab.get_by_test_id("whoami")).to_contain_text("signed in as ui-admin (admin)")
    assert tab.evaluate(STORED_KEY) == ui_key


def test_a_wrong_or_missing_key_shows_an_error(anonymous_page):
    tab = anonymous_page
    tab.goto("/signin")
    submit_key(tab, "tw_not-a-key")
    expect(tab.locator("#signin-error")).to_have_text("The API key is unknown or revoked.")
    expect(tab.locator("#key")).to_have_attribute("aria-invalid", "true")
    submit_key(tab, "  ")
    expect(tab.locator("#signin-error")).to_have_text("Enter your API key.")
    assert urlsplit(tab.url).path == "/signin" and tab.evaluate(STORED_KEY) is None
    tab.fill("#key", "tw_")
    expect(tab.locator("#signin-error")).to_be_hidden()


def test_a_key_revoked_while_signed_in_returns_to_sign_in(page, conn, screenshot):
    page.goto("/positions")
    expect(page.locator("body[data-loaded=true]")).to_be_attached()
    revoke_key(conn, "ui-admin")
    page.click("#refresh")
    wait_for_path(page, "/signin")
    expect(page.locator("#signin-notice")).to_have_text(
        "The service refused your key (unknown or revoked): sign in again.")
    assert next_param(page) == "/positions#open" and page.evaluate(STORED_KEY) is None
    screenshot(page, "signin-expired.png")

    _, fresh = create_key(conn, "ui-admin-2")
    submit_key(page, fresh)
    wait_for_path(page, "/positions")
    expect(page.get_by_test_id("whoami")).to_contain_text("signed in as ui-admin-2 (admin)")


def test_sign_out_forgets_the_key_and_the_queue_session(page, context):
    page.goto("/")
    expect(page.get_by_test_id("whoami")).to_be_visible()
    assert context.request.get("/rq/").status == 200  # the sign-in cookie
    page.click("#sign-out")
    wait_for_path(page, "/signin")
    expect(page.locator("#signin-notice")).to_have_text("You are signed out.")
    assert page.evaluate(STORED_KEY) is None
    assert context.request.get("/rq/").status == 401
    page.goto("/")
    wait_for_path(page, "/signin")


def test_a_read_only_key_sees_everything_and_its_changes_fail_with_the_reason(anonymous_page, client, conn,
                                                                              make_model):
    client.post("/api/wallets", json={"alias": WALLET_ALIAS})
    client.post("/api/buy/workflows", json=buy_body(make_model("pump-5m"), name="Watched bot"))
    _, viewer = create_key(conn, "viewer", KeyRole.READ_ONLY)
    tab = anonymous_page
    tab.goto("/signin")
    submit_key(tab, viewer)
    wait_for_path(tab, "/")
    expect(tab.get_by_test_id("whoami")).to_contain_text("signed in as viewer (read-only)")
    bot = tab.locator("[data-testid=workflow-card]").filter(has_text="Watched bot")
    expect(bot).to_be_visible()

    bot.locator(".switch").click()
    expect(bot.locator(".card-error")).to_contain_text("read-only")
    expect(bot.locator("input.toggle")).not_to_be_checked()

    bot.get_by_role("button", name="Edit").click()
    tab.fill("#f-name", "Renamed")
    tab.click("#builder-save")
    expect(tab.locator("#builder-error")).to_contain_text("'viewer' is read-only: PATCH needs an admin key")
    assert client.get("/api/buy/workflows").get_json()[0]["name"] == "Watched bot"

"""The emergency stop in the browser: the red button asks for a reason and a confirmation, the banner shows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_stop_all_trading_then_resume(page, conn):
    answers = iter(["rug wave", None, None])  # the reason, then confirm; later the resume's confirm
    page.on("dialog", lambda dialog: dialog.accept(*[a for a in [next(answers)] if a]))
    page.goto("/")
    button = page.get_by_test_id("halt-trading")
    expect(button).to_have_text("Stop all trading")
    expect(page.get_by_test_id("halt-banner")).to_be_hidden()
    button.click()
    expect(page.get_by_test_id("halt-banner")).to_contain_text("Trading is halted: rug wave")
    expect(button).to_have_text("Resume trading")
    assert conn.execute("SELECT halted, reason FROM trading_state").fetchone() == {"halted": True,
                                                                                  "reason": "rug wave"}
    page.goto("/positions")  # the banner is on every page
    expect(page.get_by_test_id("halt-banner")).to_be_visible()
    page.get_by_test_id("halt-trading").click()
    expect(page.get_by_test_id("halt-banner")).to_be_hidden()
    assert conn.execute("SELECT halted FROM trading_state").fetchone()["halted"] is False


def test_cancelled_stop_changes_nothing(page, conn):
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.goto("/")
    page.get_by_test_id("halt-trading").click()
    expect(page.get_by_test_id("halt-trading")).to_have_text("Stop all trading")
    assert conn.execute("SELECT halted FROM trading_state").fetchone()["halted"] is False

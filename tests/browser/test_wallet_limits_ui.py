"""The wallets panel of the positions page: limits and the circuit breaker shown, limits edited, the breaker reset."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_limits_are_shown_edited_and_the_breaker_reset(page, conn, wallet):
    alias = wallet["alias"]
    conn.execute("UPDATE wallets SET max_buys_per_day = 20, losing_streak = 3, breaker_tripped_at = now(), "
                 "breaker_reason = '3 consecutive losing sells'")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/positions")
    row = page.get_by_test_id(f"wallet-{alias}")
    expect(row).to_contain_text("20")
    expect(row).to_contain_text("no limit")
    expect(page.get_by_test_id(f"breaker-{alias}")).to_contain_text("TRIPPED")
    page.get_by_test_id(f"reset-{alias}").click()
    expect(page.get_by_test_id(f"breaker-{alias}")).to_contain_text("closed · 0/3 losing")
    assert conn.execute("SELECT breaker_tripped_at FROM wallets").fetchone()["breaker_tripped_at"] is None
    page.get_by_test_id(f"edit-limits-{alias}").click()
    page.fill("#limit-max_buys_per_day", "")
    page.fill("#limit-max_position_pct", "5")
    page.click("#limits-ok")
    expect(page.locator("#limits-dialog")).to_be_hidden()
    expect(row).to_contain_text("5.00")
    stored = conn.execute("SELECT max_buys_per_day, max_position_pct FROM wallets").fetchone()
    assert stored == {"max_buys_per_day": None, "max_position_pct": Decimal("5.00")}
    page.get_by_test_id(f"edit-limits-{alias}").click()
    page.fill("#limit-max_position_pct", "150")
    page.click("#limits-ok")
    expect(page.locator("#limits-error")).to_contain_text("max_position_pct")

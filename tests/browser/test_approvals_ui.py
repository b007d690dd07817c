"""Approvals in the browser: the nav badge counts waiting BUYs, the page approves one (which buys) and rejects one."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import expect

from app.config import PriceSourceName
from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
from tests.factories import ENTRY_PRICE, add_mint, add_prices, buy_deps, buy_workflow, mint_for, store_prediction

pytestmark = pytest.mark.browser


@pytest.fixture
def app(app, config):
    """The app pricing from stored coin metrics (no network)."""
    app.extensions["trading_config"] = replace(config, price_source=PriceSourceName.METRICS)
    return app


@pytest.fixture
def approval_ids(conn, wallet, make_model) -> list[str]:
    """Two PENDING approvals of a require_approval workflow, on two priced mints."""
    trigger = make_model("trigger")
    buy_workflow(conn, trigger, require_approval=True)
    ids = []
    for name in ("a", "b"):
        mint = mint_for(name)
        add_mint(conn, mint)
        add_prices(conn, [str(ENTRY_PRICE)] * 3, mint)
        [outcome] = evaluate_prediction(PostgresStore(conn),
                                        store_prediction(conn, trigger, 0.9, mint=mint), buy_deps())
        ids.append(outcome["approval_id"])
    return ids


def test_badge_and_list_approve_one_and_reject_the_other(page, conn, approval_ids):
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/")
    expect(page.get_by_test_id("approvals-badge")).to_have_text("2")
    page.goto("/approvals")
    expect(page.get_by_test_id("approval-row")).to_have_count(2)
    page.get_by_test_id(f"approve-{approval_ids[0]}").click()
    expect(page.get_by_test_id("approval-row")).to_have_count(1)
    expect(page.get_by_test_id("approvals-badge")).to_have_text("1")
    approved = conn.execute("SELECT status, outcome FROM approvals WHERE id = %s", (approval_ids[0],)).fetchone()
    assert approved["status"] == "APPROVED" and approved["outcome"]["result"] == "EXECUTED", approved
    assert conn.execute("SELECT count(*) AS n FROM trade_logs").fetchone()["n"] == 1
    page.get_by_test_id(f"reject-{approval_ids[1]}").click()
    expect(page.get_by_test_id("approval-row")).to_have_count(0)
    expect(page.get_by_test_id("approvals-badge")).to_have_text("")
    page.get_by_role("tab", name="All").click()
    expect(page.get_by_test_id("approval-row")).to_have_count(2)
    expect(page.locator("#approvals")).to_contain_text("REJECTED")

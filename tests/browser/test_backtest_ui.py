"""The backtest page in a real browser: pick workflows (one as an edited copy), run, follow progress, see the result."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from rq import Queue, SimpleWorker

from app.queues import BACKTEST_QUEUE
from tests import factories
from tests.factories import BACKTEST_T0, seed_backtest_history

pytestmark = pytest.mark.browser


@pytest.fixture
def history(conn, wallet, make_model):
    """An hour of coin metrics and two predictions, a BUY workflow on their model and a SELL workflow."""
    model = make_model("pump")
    seed_backtest_history(conn, model)
    buy = factories.buy_workflow(conn, model, min_probability=0.5, name="Pump buyer")
    sell = factories.sell_workflow(conn, factories.SELL_RULES, name="Exits")
    return buy, sell


def test_a_backtest_runs_end_to_end_from_the_page(page, client, history, redis_conn, job_env, screenshot):
    buy, sell = history
    page.goto("/backtest")
    expect(page.locator("body[data-loaded=true]")).to_be_attached()
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Backtest")
    page.select_option("#bt-buy", str(buy["id"]))
    page.select_option("#bt-sell", str(sell["id"]))
    page.check("#bt-sell-edit")  # run the SELL workflow as an inline copy, take-profit lowered from +20 % to +15 %
    copy = json.loads(page.input_value("#bt-sell-json"))
    assert copy["chain"]["rules"] == factories.SELL_RULES and "wallet_alias" not in copy
    copy["chain"]["rules"] = [rule if rule["type"] != "take_profit" else {**rule, "percent": 15.0}
                              for rule in copy["chain"]["rules"]]
    page.fill("#bt-sell-json", json.dumps(copy, indent=2))
    page.fill("#bt-from", BACKTEST_T0.strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("#bt-to", (BACKTEST_T0 + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("#bt-balance", "10")
    page.click("#bt-run")

    expect(page.locator("#bt-status-text")).to_contain_text("Queued")
    SimpleWorker([Queue(BACKTEST_QUEUE, connection=redis_conn)], connection=redis_conn).work(
        burst=True, logging_level="WARNING")
    expect(page.locator("body[data-result=shown]")).to_be_attached()
    expect(page.locator("#bt-status-text")).to_have_text("Done")
    expect(page.locator("#bt-trades")).to_have_text("2")
    expect(page.locator("#bt-equity svg.equity-chart circle.equity-dot")).to_have_count(2)
    rows = page.locator("#bt-trades-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#bt-trades-table [data-rule=take_profit]")).to_have_count(1)
    expect(page.locator("#bt-trades-table [data-rule=trailing_stop]")).to_have_count(1)
    expect(page.locator("#bt-exits")).to_contain_text("Take-profit")
    run_id = page.url.split("id=")[1]
    stored = client.get(f"/api/backtests/{run_id}").get_json()
    assert stored["request"]["sell_workflow_id"] is None  # the inline copy ran, with its lowered take-profit
    assert {"type": "take_profit", "percent": 15.0} in stored["request"]["sell"]["chain"]["rules"]
    screenshot(page, "backtest.png", full_page=True)

    page.reload()  # the run's id stays in the address: the result comes back
    expect(page.locator("body[data-result=shown]")).to_be_attached()
    expect(page.locator("#bt-trades")).to_have_text("2")
    assert run_id in page.url


def test_a_bad_period_shows_the_field_the_api_names(page, history):
    page.goto("/backtest")
    expect(page.locator("body[data-loaded=true]")).to_be_attached()
    page.fill("#bt-from", (BACKTEST_T0 + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("#bt-to", BACKTEST_T0.strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#bt-run")
    expect(page.locator("#bt-error")).to_contain_text("to: Must be after from.")
    expect(page.locator("#bt-status")).to_be_hidden()

"""The performance page in a real browser: figures, the SVG equity curve and exits by rule, over engine-made trades."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import buy_workflow, engine_buy, engine_sell_check, mint_for, sell_workflow

pytestmark = pytest.mark.browser

# (mint name, [(price factor, hours after the buy)]): the rules are take 50 % at +20 %, the rest at +50 %, stop at -5 %
PATHS = [
    ("alpha", [("1.25", 1), ("1.6", 3)]),
    ("bravo", [("0.9", 20)]),
    ("charlie", [("1.3", 30), ("1.7", 40)]),
    ("delta", [("1.25", 50), ("0.9", 52)]),
    ("echo", [("0.8", 70)]),
    ("foxtrot", [("1.55", 90), ("1.55", 91)]),  # one rule per check: the ladder step first
    ("golf", [("1.22", 1)]),  # half sold, still open: not a trade yet
]


@pytest.fixture
def traded(conn, wallet, make_model):
    """Workflow `Aggressive Buy Bot` on w1 bought every PATHS mint; the SELL engine sold them along their paths."""
    model = make_model("pump")
    workflow = buy_workflow(conn, model, cooldown_seconds=0)
    sell_workflow(conn, [{"type": "take_profit", "percent": 20, "sell_pct": 50},
                         {"type": "take_profit", "percent": 50}, {"type": "stop_loss", "percent": -5}])
    for name, path in PATHS:
        position = engine_buy(conn, model, mint_for(name))
        for factor, hours in path:
            assert engine_sell_check(conn, position, factor, timedelta(hours=hours))["result"] == "sold"
    return workflow


def test_performance_page_draws_the_equity_curve_and_exits_by_rule(page, client, traded, screenshot):
    expected = client.get("/api/wallets/w1/performance").get_json()
    assert expected["trades"] == 6

    page.goto("/performance?wallet=w1")
    expect(page.locator("body[data-loaded=true]")).to_be_attached()
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Performance")
    expect(page.locator("#stat-trades")).to_have_text("6")
    expect(page.locator("#stat-winrate")).to_have_text(f"{float(expected['win_rate_pct']):.1f}%")
    expect(page.locator("#stat-pnl")).to_contain_text("SOL")
    curve = page.locator("#equity svg.equity-chart")
    expect(curve).to_be_visible()
    expect(curve.locator("polyline.equity-line")).to_have_count(1)
    expect(curve.locator("circle.equity-dot")).to_have_count(6)
    bars = page.locator("#exits svg.exits-chart rect.exit-bar")
    expect(bars).to_have_count(len(expected["exits_by_rule"]))
    expect(page.locator("#exits rect[data-rule=stop_loss]")).to_have_count(1)
    expect(page.locator("#exits")).to_contain_text("Take-profit")
    expect(page.locator("#days tbody tr")).to_have_count(len(expected["pnl_by_day"]))
    screenshot(page, "performance.png", full_page=True)

    page.select_option("#scope", f"workflow:{traded['id']}")
    page.wait_for_url(lambda url: f"workflow={traded['id']}" in url)
    expect(page.locator("#stat-trades")).to_have_text("6")

    page.fill("#from", "2099-01-01")
    page.locator("#from").dispatch_event("change")
    expect(page.locator("#stat-trades")).to_have_text("0")
    expect(page.locator("#equity")).to_contain_text("No closed positions in this period.")
    expect(page.locator("#exits")).to_contain_text("No exits.")
    expect(page.locator("#days-empty")).to_be_visible()


def test_from_after_to_shows_the_api_error(page, wallet):
    page.goto("/performance?wallet=w1&from=2026-11-21&to=2026-11-19")
    expect(page.locator("body[data-loaded=true]")).to_be_attached()
    expect(page.locator("#load-error")).to_contain_text("from: Must not be after to.")

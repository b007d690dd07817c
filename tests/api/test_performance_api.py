"""GET /api/wallets/{alias}/performance and /api/buy/workflows/{id}/performance on real PostgreSQL, over
positions the real BUY and SELL engines bought and sold."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from app.core.performance import ratio
from tests.factories import buy_workflow, mint_for, sell_workflow
from tests.factories import engine_buy as buy
from tests.factories import engine_sell_check as sell_at

WIN, LOSS, OPEN, OTHER = (mint_for(name) for name in ("win", "loss", "open", "other"))


def row(conn, position: dict) -> dict:
    return conn.execute("SELECT * FROM positions WHERE id = %s", (position["id"],)).fetchone()


@pytest.fixture
def traded(conn, wallet, make_model):
    """Workflow `main` (model 1): WIN (ladder: 50 % at +25 %, the rest at +60 %, closed after 1 h), LOSS
    (stop-loss, closed after 1 day 2 h), OPEN (half sold, still open). Workflow `side` (model 2): OTHER (stop-loss
    after 30 min). Returns the workflows and the closed rows."""
    main_model, side_model = make_model("main"), make_model("side")
    main = buy_workflow(conn, main_model, cooldown_seconds=0)
    side = buy_workflow(conn, side_model, name="side", cooldown_seconds=0)
    sell_workflow(conn, [{"type": "take_profit", "percent": 20, "sell_pct": 50},
                         {"type": "take_profit", "percent": 50}, {"type": "stop_loss", "percent": -5}])
    win, loss, still_open = (buy(conn, main_model, mint) for mint in (WIN, LOSS, OPEN))
    other = buy(conn, side_model, OTHER)
    assert sell_at(conn, win, "1.25", timedelta(minutes=10))["closed"] is False
    assert sell_at(conn, win, "1.6", timedelta(hours=1))["closed"] is True
    assert sell_at(conn, loss, "0.9", timedelta(days=1, hours=2))["closed"] is True
    assert sell_at(conn, still_open, "1.25", timedelta(minutes=5))["closed"] is False
    assert sell_at(conn, other, "0.5", timedelta(minutes=30))["closed"] is True
    return {"main": main, "side": side, "win": row(conn, win), "loss": row(conn, loss), "other": row(conn, other)}


def get(client, path: str, status: int = 200, **query) -> dict:
    response = client.get(path, query_string=query)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_workflow_performance_counts_its_closed_positions(client, traded):
    win, loss = traded["win"]["realized_pnl_sol"], traded["loss"]["realized_pnl_sol"]
    assert win > 0 > loss
    body = get(client, f"/api/buy/workflows/{traded['main']['id']}/performance")
    assert body["workflow_id"] == str(traded["main"]["id"]) and body["wallet_alias"] is None
    assert (body["trades"], body["wins"], body["losses"], body["breakeven"]) == (2, 1, 1, 0)
    assert Decimal(body["realized_pnl_sol"]) == win + loss
    assert (Decimal(body["gross_win_sol"]), Decimal(body["gross_loss_sol"])) == (win, loss)
    assert body["win_rate_pct"] == "50.0000"
    assert Decimal(body["avg_win_sol"]) == win and Decimal(body["avg_loss_sol"]) == loss
    assert Decimal(body["profit_factor"]) == ratio(win, -loss, 4)
    assert Decimal(body["max_drawdown_sol"]) == -loss  # the loss closed after the win
    assert Decimal(body["max_drawdown_pct"]) == ratio(-loss * 100, win, 4)
    assert Decimal(body["avg_holding_seconds"]) == Decimal((3600 + 26 * 3600) / 2)
    assert [(p["position_id"], Decimal(p["equity_sol"])) for p in body["equity_curve"]] == [
        (str(traded["win"]["id"]), win), (str(traded["loss"]["id"]), win + loss)]
    assert [(r["rule"], r["exits"]) for r in body["exits_by_rule"]] == [("stop_loss", 1), ("take_profit", 2)]
    assert Decimal(body["exits_by_rule"][1]["realized_pnl_sol"]) == win  # the partial sell counts toward it
    assert [(d["trades"], Decimal(d["realized_pnl_sol"])) for d in body["pnl_by_day"]] == [(1, win), (1, loss)]


def test_wallet_performance_counts_every_workflow_and_the_period(client, traded):
    win, loss, other = (traded[name]["realized_pnl_sol"] for name in ("win", "loss", "other"))
    body = get(client, "/api/wallets/w1/performance")
    assert body["wallet_alias"] == "w1" and body["workflow_id"] is None
    assert (body["trades"], body["wins"], body["losses"]) == (3, 1, 2)
    assert Decimal(body["realized_pnl_sol"]) == win + loss + other
    cut = traded["loss"]["closed_at"]
    before = get(client, "/api/wallets/w1/performance", to=cut.isoformat())
    assert before["trades"] == 2 and before["to"] is not None
    since = get(client, "/api/wallets/w1/performance", **{"from": cut.isoformat()})
    assert since["trades"] == 1 and Decimal(since["realized_pnl_sol"]) == loss  # from is inclusive
    empty = get(client, "/api/wallets/w1/performance", **{"from": cut.isoformat(), "to": cut.isoformat()})
    assert empty["trades"] == 0 and empty["win_rate_pct"] is None and empty["equity_curve"] == []


def test_side_workflow_sees_only_its_own(client, traded):
    body = get(client, f"/api/buy/workflows/{traded['side']['id']}/performance")
    assert (body["trades"], body["losses"], body["profit_factor"], body["max_drawdown_pct"]) == (1, 1, "0.0000", None)


def test_no_trades_is_an_empty_report(client, wallet):
    body = get(client, "/api/wallets/w1/performance")
    assert body["trades"] == 0 and body["realized_pnl_sol"] == "0" and body["max_drawdown_sol"] == "0"
    assert body["exits_by_rule"] == body["pnl_by_day"] == body["equity_curve"] == []


def test_unknown_wallet_or_workflow_is_404(client, wallet):
    assert "not found" in get(client, "/api/wallets/nobody/performance", 404)["message"]
    get(client, f"/api/buy/workflows/{uuid.uuid4()}/performance", 404)


def test_from_after_to_is_422_naming_from(client, wallet):
    body = get(client, "/api/wallets/w1/performance", 422,
               **{"from": "2026-11-21T10:00:00+00:00", "to": "2026-11-21T09:00:00+00:00"})
    assert body["errors"]["query"] == {"from": ["Must not be after to."]}
    assert "from" in get(client, "/api/wallets/w1/performance", 422, **{"from": "yesterday"})["errors"]["query"]
    assert "to" in get(client, "/api/wallets/w1/performance", 422, to="2026-11-21T09:00:00")["errors"]["query"]

"""Positions and trades API, and the manual sell, against real PostgreSQL (metrics price source)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from app.config import PriceSourceName
from tests.factories import WALLET_ALIAS, WALLET_BALANCE, add_prices


@pytest.fixture
def metrics_client(app, config, client):
    app.extensions["trading_config"] = replace(config, price_source=PriceSourceName.METRICS)
    return client


def test_list_get_and_filters(metrics_client, position):
    listed = metrics_client.get(f"/api/positions?wallet_alias={WALLET_ALIAS}&status=OPEN").get_json()
    assert [p["id"] for p in listed] == [str(position["id"])]
    assert metrics_client.get("/api/positions?status=CLOSED").get_json() == []
    body = metrics_client.get(f"/api/positions/{position['id']}").get_json()
    assert (body["entry_price_sol"], body["sol_spent"], body["status"]) == ("0.000100000000000000", "0.050000000",
                                                                           "OPEN")
    assert body["trades"][0]["action"] == "BUY"
    assert metrics_client.get(f"/api/positions/{uuid.uuid4()}").status_code == 404
    assert metrics_client.get("/api/positions?status=MAYBE").status_code == 422


def test_manual_partial_then_full_sell(metrics_client, conn, position):
    add_prices(conn, ["0.00012"])
    half = metrics_client.post(f"/api/positions/{position['id']}/sell", json={"pct": 50})
    assert half.status_code == 200, half.get_json()
    body = half.get_json()
    assert body["status"] == "OPEN" and int(body["tokens_raw"]) == int(position["tokens_raw"]) - int(
        position["tokens_raw"]) // 2
    rest = metrics_client.post(f"/api/positions/{position['id']}/sell", json={}).get_json()
    assert rest["status"] == "CLOSED" and rest["close_reason"] == "manual"
    trades = metrics_client.get(f"/api/trades?wallet_alias={WALLET_ALIAS}").get_json()
    assert [t["action"] for t in trades] == ["SELL", "SELL", "BUY"]
    realized = sum(Decimal(t["realized_pnl_sol"]) for t in trades if t["action"] == "SELL")
    assert realized == Decimal(rest["realized_pnl_sol"])
    wallet = metrics_client.get(f"/api/wallets/{WALLET_ALIAS}").get_json()
    assert Decimal(wallet["virtual_sol_balance"]) - WALLET_BALANCE == realized
    again = metrics_client.post(f"/api/positions/{position['id']}/sell", json={"pct": 10})
    assert again.status_code == 409 and "CLOSED" in again.get_json()["message"]


@pytest.mark.parametrize("body", [{"pct": 0}, {"pct": 101}, {"pct": "x"}, {"pct": 10.555}, {"all": True}])
def test_invalid_sell_request_is_422(metrics_client, position, body):
    assert metrics_client.post(f"/api/positions/{position['id']}/sell", json=body).status_code == 422


def test_sell_without_price_is_409_and_changes_nothing(metrics_client, conn, position):
    response = metrics_client.post(f"/api/positions/{position['id']}/sell", json={"pct": 100})
    assert response.status_code == 409 and "price" in response.get_json()["message"]
    assert conn.execute("SELECT status FROM positions").fetchone()["status"] == "OPEN"


def test_sell_unknown_position_is_404(metrics_client, position):
    assert metrics_client.post(f"/api/positions/{uuid.uuid4()}/sell", json={"pct": 50}).status_code == 404

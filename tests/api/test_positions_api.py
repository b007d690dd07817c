"""Positions and trades API, and the manual sell, against real PostgreSQL (metrics price source)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.config import PriceSourceName
from app.services.buy_engine import evaluate_prediction
from tests.service.buy_fixtures import MINT, buy_workflow, deps, set_decimals, store_prediction


@pytest.fixture
def metrics_client(app, config, client):
    app.extensions["trading_config"] = replace(config, price_source=PriceSourceName.METRICS)
    return client


@pytest.fixture
def position(metrics_client, conn, make_model):
    metrics_client.post("/api/wallets", json={"alias": "w1", "virtual_sol_balance": "10"})
    set_decimals(conn)
    trigger = make_model()
    buy_workflow(conn, trigger)
    evaluate_prediction(conn, store_prediction(conn, trigger, 0.9), deps())
    return conn.execute("SELECT * FROM positions").fetchone()


def put_price(conn, price: str) -> None:
    conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol) VALUES (%s, %s, %s)",
                 (MINT, datetime.now(UTC), Decimal(price)))


def test_list_get_and_filters(metrics_client, position):
    listed = metrics_client.get("/api/positions?wallet_alias=w1&status=OPEN").get_json()
    assert [p["id"] for p in listed] == [str(position["id"])]
    assert metrics_client.get("/api/positions?status=CLOSED").get_json() == []
    body = metrics_client.get(f"/api/positions/{position['id']}").get_json()
    assert (body["entry_price_sol"], body["sol_spent"], body["status"]) == ("0.000100000000000000", "0.050000000",
                                                                           "OPEN")
    assert body["trades"][0]["action"] == "BUY"
    assert metrics_client.get(f"/api/positions/{uuid.uuid4()}").status_code == 404
    assert metrics_client.get("/api/positions?status=MAYBE").status_code == 422


def test_manual_partial_then_full_sell(metrics_client, conn, position):
    put_price(conn, "0.00012")
    half = metrics_client.post(f"/api/positions/{position['id']}/sell", json={"pct": 50})
    assert half.status_code == 200, half.get_json()
    body = half.get_json()
    assert body["status"] == "OPEN" and int(body["tokens_raw"]) == int(position["tokens_raw"]) - int(
        position["tokens_raw"]) // 2
    rest = metrics_client.post(f"/api/positions/{position['id']}/sell", json={}).get_json()
    assert rest["status"] == "CLOSED" and rest["close_reason"] == "manual"
    trades = metrics_client.get("/api/trades?wallet_alias=w1").get_json()
    assert [t["action"] for t in trades] == ["SELL", "SELL", "BUY"]
    realized = sum(Decimal(t["realized_pnl_sol"]) for t in trades if t["action"] == "SELL")
    assert realized == Decimal(rest["realized_pnl_sol"])
    wallet = metrics_client.get("/api/wallets/w1").get_json()
    assert Decimal(wallet["virtual_sol_balance"]) - Decimal("10") == realized
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

"""Orders API: every paper trade's FILLED order, filters, and the order on positions, trades and executions."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from app.config import PriceSourceName
from tests.factories import WALLET_ALIAS, add_prices


@pytest.fixture
def metrics_client(app, config, client):
    app.extensions["trading_config"] = replace(config, price_source=PriceSourceName.METRICS)
    return client


def test_a_paper_buy_and_sell_are_filled_orders_linked_to_their_records(metrics_client, conn, position):
    add_prices(conn, ["0.00012"])
    metrics_client.post(f"/api/positions/{position['id']}/sell", json={})

    orders = metrics_client.get(f"/api/orders?wallet_alias={WALLET_ALIAS}").get_json()

    assert [(o["side"], o["state"], o["is_paper"]) for o in orders] == [("SELL", "FILLED", True),
                                                                         ("BUY", "FILLED", True)]
    sell, buy = orders
    assert buy["out_amount"] == position["tokens_raw"].to_eng_string() and sell["in_amount"] == buy["out_amount"]
    assert buy["signature"] is None and buy["finished_at"] is not None
    detail = metrics_client.get(f"/api/positions/{position['id']}").get_json()
    assert [o["id"] for o in detail["orders"]] == [buy["id"], sell["id"]]
    assert {t["order_id"] for t in detail["trades"]} == {buy["id"], sell["id"]}
    [execution] = metrics_client.get("/api/buy/workflow-executions?result=EXECUTED").get_json()["items"]
    assert (execution["order_id"], execution["order_state"]) == (buy["id"], "FILLED")
    assert metrics_client.get(f"/api/orders/{buy['id']}").get_json() == buy


def test_order_filters_and_errors(metrics_client, position):
    assert len(metrics_client.get("/api/orders?state=FILLED").get_json()) == 1
    assert metrics_client.get("/api/orders?state=SENT").get_json() == []
    bad = metrics_client.get("/api/orders?state=LOST")
    assert bad.status_code == 422 and "state" in str(bad.get_json())
    assert metrics_client.get("/api/orders?wallet_alias=nobody").status_code == 404
    assert metrics_client.get(f"/api/orders/{uuid.uuid4()}").status_code == 404

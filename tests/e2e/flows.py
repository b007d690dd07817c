"""User flows over HTTP shared by the end-to-end tests: wallets, models, metrics, workflows, predictions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import requests
from psycopg.rows import dict_row

from tests.factories import MODEL_FEATURES as FEATURES  # noqa: F401  (bench/ imports it from here)
from tests.factories import (
    buy_body,
    metric_point,
    mint_for,  # noqa: F401  (bench/ imports it from here)
    model_body,
    prediction_body,
    sell_body,
    train_booster,
    wallet_body,
)


def api(stack, method: str, path: str, **kwargs):
    """Call the stack's API and return the JSON body (fails the test on an error status)."""
    response = requests.request(method, stack.base_url + path, timeout=10,
                                headers={**stack.headers, **kwargs.pop("headers", {})}, **kwargs)
    assert response.status_code < 300, (method, path, response.status_code, response.text)
    return response.json()


def db(stack):
    """A connection to the stack's embedded PostgreSQL."""
    return psycopg.connect(stack.db_url, row_factory=dict_row, autocommit=True)


def wait_for(predicate, timeout: float, what: str, stack=None, poll: float = 0.1):
    """Poll until predicate() returns a truthy value; fail with the stack's log tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    tail = stack.log()[-4000:] if stack is not None else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def metrics_points(price: Decimal, now: datetime) -> list[dict]:
    """Eleven one-minute coin metric points ending at `now`."""
    return [metric_point(now - timedelta(minutes=m), str(price * (1 + Decimal(m) / 100)), volume_sol="12.5")
            for m in range(10, -1, -1)]


def buy_setup(stack, alias: str, mint: str, price: Decimal, amount: str = "0.05",
              balance: str = "2") -> int:
    """Wallet, two uploaded models, metrics and an active BUY workflow whose condition passes; returns trigger id."""
    now = datetime.now(UTC)
    api(stack, "POST", "/api/wallets", json=wallet_body(alias, virtual_sol_balance=balance))
    trigger = api(stack, "POST", "/api/models", json=model_body(train_booster(seed=1), f"trigger-{alias}"))["id"]
    condition = api(stack, "POST", "/api/models", json=model_body(train_booster(seed=2), f"cond-{alias}"))["id"]
    api(stack, "POST", f"/api/coins/{mint}/metrics", json={"decimals": 6, "metrics": metrics_points(price, now)})
    probability = api(stack, "POST", f"/api/models/{condition}/predict",
                      json={"mint": mint, "timestamp": now.isoformat()})["probability"]
    threshold = max(0.0, round(probability - 0.01, 6))
    workflow = api(stack, "POST", "/api/buy/workflows", json=buy_body(
        trigger, [(condition, "gte", threshold)], wallet_alias=alias, name=f"buy-{alias}",
        buy_amount_value=float(amount), cooldown_seconds=0))
    api(stack, "PATCH", f"/api/buy/workflows/{workflow['id']}/toggle?active=true")
    return trigger


def post_prediction(stack, trigger: int, mint: str, probability: float = 0.9, client_id: str | None = None) -> dict:
    """POST one prediction timestamped now."""
    body = prediction_body(trigger, mint, probability=probability, timestamp=datetime.now(UTC).isoformat())
    if client_id:
        body["id"] = client_id
    return api(stack, "POST", "/api/predictions", json=body)


def wait_evaluated(stack, prediction_id: str, timeout: float = 30) -> dict:
    """The prediction once its evaluation job has run."""
    def evaluated():
        body = api(stack, "GET", f"/api/predictions/{prediction_id}")
        return body if body["status"] != "PENDING" else None
    return wait_for(evaluated, timeout, f"evaluation of prediction {prediction_id}", stack)


def open_position(stack, alias: str, mint: str, price: Decimal, sell_rules: list[dict] | None = None) -> dict:
    """The whole BUY flow (plus an active SELL workflow when rules are given); returns the opened position."""
    trigger = buy_setup(stack, alias, mint, price)
    if sell_rules is not None:
        sell = api(stack, "POST", "/api/buy/workflows", json=sell_body(
            wallet_alias=alias, name=f"sell-{alias}", chain={"rules": sell_rules}))
        api(stack, "PATCH", f"/api/buy/workflows/{sell['id']}/toggle?active=true")
    evaluated = wait_evaluated(stack, post_prediction(stack, trigger, mint)["id"])
    [execution] = evaluated["executions"]
    assert execution["result"] == "EXECUTED", execution
    return api(stack, "GET", f"/api/positions/{execution['position_id']}")

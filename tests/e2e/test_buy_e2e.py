"""BUY end to end: real web, two workers and scheduler, embedded PostgreSQL/Redis, a local Jupiter server."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
import requests
from psycopg.rows import dict_row

from tests.e2e.stack import Stack
from tests.fakes.jupiter_server import FakeJupiter, tokens_out
from tests.model_factory import upload_body

pytestmark = pytest.mark.e2e

MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"
PRICE = Decimal("0.000123")
FEATURES = ["price_sol", "price_sol_pct_change_5m", "volume_sol_sum_5m"]


@pytest.fixture(scope="module")
def jupiter():
    with FakeJupiter() as fake:
        fake.set_price(MINT, PRICE, 6)
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory, jupiter):
    tmp = tmp_path_factory.mktemp("buy-e2e")
    running = Stack({"DATA_DIR": str(tmp / "data"), "PRICE_SOURCE": "jupiter", "JUPITER_BASE_URL": jupiter.base_url,
                     "PAPER_FEE_BPS": "30", "WORKER_PROCESSES": "2"}, tmp / "stack.log")
    try:
        running.wait_ready()
        running.db_url = f"postgresql://postgres:@/trading?host={tmp / 'data' / 'postgres'}"
        yield running
    finally:
        running.stop()


def api(stack, method, path, **kwargs):
    response = requests.request(method, stack.base_url + path, timeout=10, **kwargs)
    assert response.status_code < 300, (path, response.status_code, response.text)
    return response.json()


def metrics_points(now: datetime) -> list[dict]:
    return [{"ts": (now - timedelta(minutes=m)).isoformat(), "price_sol": str(PRICE * (1 + Decimal(m) / 100)),
             "volume_sol": "12.5"} for m in range(10, -1, -1)]


def set_up_buy_workflow(stack, alias: str) -> tuple[int, datetime]:
    """Wallet, two uploaded models, metrics and an active BUY workflow whose condition passes; returns trigger id."""
    now = datetime.now(UTC)
    api(stack, "POST", "/api/wallets", json={"alias": alias, "virtual_sol_balance": "2"})
    trigger = api(stack, "POST", "/api/models", json=upload_body(f"trigger-{alias}", FEATURES, seed=1))["id"]
    condition = api(stack, "POST", "/api/models", json=upload_body(f"cond-{alias}", FEATURES, seed=2))["id"]
    api(stack, "POST", f"/api/coins/{MINT}/metrics", json={"decimals": 6, "metrics": metrics_points(now)})
    probability = api(stack, "POST", f"/api/models/{condition}/predict",
                      json={"mint": MINT, "timestamp": now.isoformat()})["probability"]
    workflow = api(stack, "POST", "/api/buy/workflows", json={
        "wallet_alias": alias, "name": "e2e", "type": "BUY", "buy_amount_mode": "fixed", "buy_amount_value": 0.05,
        "cooldown_seconds": 0,
        "chain": {"trigger": {"type": "prediction_alert", "model_id": trigger, "min_probability": 0.7},
                  "conditions": [{"type": "on_demand_prediction", "model_id": condition, "operator": "gte",
                                  "threshold": max(0.0, round(probability - 0.01, 6))}]}})
    api(stack, "PATCH", f"/api/buy/workflows/{workflow['id']}/toggle?active=true")
    return trigger, now


def wait_evaluated(stack, prediction_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api(stack, "GET", f"/api/predictions/{prediction_id}")
        if body["status"] != "PENDING":
            return body
        time.sleep(0.1)
    raise AssertionError(f"prediction {prediction_id} not evaluated:\n{stack.log()[-3000:]}")


def test_posted_prediction_opens_the_expected_position(stack, jupiter):
    trigger, now = set_up_buy_workflow(stack, "e2e-one")
    accepted = api(stack, "POST", "/api/predictions",
                   json={"id": "e2e-1", "mint": MINT, "model_id": trigger, "probability": 0.91,
                         "timestamp": now.isoformat()})
    evaluated = wait_evaluated(stack, accepted["id"])
    [execution] = evaluated["executions"]
    assert execution["result"] == "EXECUTED", execution
    with psycopg.connect(stack.db_url, row_factory=dict_row) as conn:
        position = conn.execute("SELECT p.* FROM positions p JOIN wallets w ON w.id = p.wallet_id "
                                "WHERE w.alias = 'e2e-one'").fetchone()
        wallet = conn.execute("SELECT virtual_sol_balance FROM wallets WHERE alias = 'e2e-one'").fetchone()
    fee = -(-50_000_000 * 30 // 10_000)
    assert fee == 150_000
    assert position["tokens_raw"] == tokens_out(50_000_000 - fee, PRICE, 6)
    assert position["sol_spent"] == Decimal("0.05") and wallet["virtual_sol_balance"] == Decimal("1.95")
    assert str(position["id"]) == execution["position_id"]
    quote_requests = [r for r in jupiter.requests if r[1].get("outputMint") == MINT]
    assert quote_requests and quote_requests[-1][1]["amount"] == str(50_000_000 - fee)


def test_fifty_identical_predictions_two_workers_one_position(stack):
    trigger, now = set_up_buy_workflow(stack, "e2e-race")
    body = {"mint": MINT, "model_id": trigger, "probability": 0.95, "timestamp": now.isoformat()}
    barrier = threading.Barrier(50)
    accepted: list[str] = []

    def post():
        barrier.wait()
        accepted.append(api(stack, "POST", "/api/predictions", json=body)["id"])

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [o["result"] for pid in accepted for o in wait_evaluated(stack, pid)["outcomes"]]
    assert outcomes.count("EXECUTED") == 1 and set(outcomes) <= {"EXECUTED", "skipped", "REJECTED"}
    with psycopg.connect(stack.db_url, row_factory=dict_row) as conn:
        positions = conn.execute("SELECT count(*) AS n FROM positions p JOIN wallets w ON w.id = p.wallet_id "
                                 "WHERE w.alias = 'e2e-race'").fetchone()["n"]
        executed = conn.execute("SELECT count(*) AS n FROM workflow_executions we JOIN trading_workflows tw "
                                "ON tw.id = we.workflow_id JOIN wallets w ON w.id = tw.wallet_id "
                                "WHERE w.alias = 'e2e-race' AND we.result = 'EXECUTED'").fetchone()["n"]
        balance = conn.execute("SELECT virtual_sol_balance FROM wallets WHERE alias = 'e2e-race'").fetchone()
    assert (positions, executed, balance["virtual_sol_balance"]) == (1, 1, Decimal("1.95"))

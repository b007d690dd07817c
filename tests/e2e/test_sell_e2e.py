"""SELL end to end: real web, two workers, scheduler at a 1 s interval, a Jupiter-shaped server the test moves."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import redis
from rq import Queue

from tests.e2e.flows import api, db, open_position, wait_for
from tests.e2e.stack import Stack
from tests.factories import mint_for
from tests.fakes.jupiter_server import FakeJupiter, lamports_out

pytestmark = pytest.mark.e2e

PRICE = Decimal("0.000123")


@pytest.fixture(scope="module")
def jupiter():
    with FakeJupiter() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory, jupiter):
    tmp = tmp_path_factory.mktemp("sell-e2e")
    running = Stack({"DATA_DIR": str(tmp / "data"), "PRICE_SOURCE": "jupiter", "JUPITER_BASE_URL": jupiter.base_url,
                     "PAPER_FEE_BPS": "30", "WORKER_PROCESSES": "2", "SELL_CHECK_INTERVAL_SECONDS": "1",
                     "JUPITER_RATE_LIMIT_PER_MIN": "100000"}, tmp / "stack.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def opened(stack, jupiter, name: str, rules: list[dict]) -> tuple[str, dict]:
    mint = mint_for(name)
    jupiter.set_price(mint, PRICE, 6)
    return mint, open_position(stack, name, mint, PRICE, rules)


def position(stack, position_id: str) -> dict:
    return api(stack, "GET", f"/api/positions/{position_id}")


def wait_closed(stack, position_id: str, timeout: float = 20) -> dict:
    return wait_for(lambda: (p := position(stack, position_id))["status"] == "CLOSED" and p, timeout,
                    f"position {position_id} to close", stack)


def expected_net_lamports(tokens_raw: int, price: Decimal) -> int:
    gross = lamports_out(tokens_raw, price, 6)
    return gross - -(-gross * 30 // 10_000)


@pytest.mark.parametrize("name, rules, path, reason", [
    ("tp", [{"type": "take_profit", "percent": 20}], [Decimal("1.25")], "take_profit"),
    ("sl", [{"type": "stop_loss", "percent": -5}], [Decimal("0.9")], "stop_loss"),
    ("ts", [{"type": "trailing_stop", "percent": -3}], [Decimal("1.5"), Decimal("1.45")], "trailing_stop"),
    ("to", [{"type": "timeout", "minutes": 0.05}], [], "timeout"),
])
def test_each_rule_closes_its_position(stack, jupiter, name, rules, path, reason):
    mint, opened_position = opened(stack, jupiter, name, rules)
    price = PRICE
    for factor in path[:-1]:  # intermediate moves: wait until a check has seen them
        price = PRICE * factor
        jupiter.set_price(mint, price, 6)
        wait_for(lambda target=price: Decimal(position(stack, opened_position["id"])["peak_price_sol"])
                 >= target * Decimal("0.999"), 10, "a check at the new peak", stack)
    if path:
        price = PRICE * path[-1]
        jupiter.set_price(mint, price, 6)
    closed = wait_closed(stack, opened_position["id"])
    assert closed["close_reason"] == reason
    net = expected_net_lamports(int(opened_position["tokens_raw"]), price)
    assert Decimal(closed["sol_received"]) == Decimal(net) / 10**9
    balance = Decimal(api(stack, "GET", f"/api/wallets/{name}")["virtual_sol_balance"])
    assert balance == Decimal("2") - Decimal("0.05") + Decimal(net) / 10**9
    [execution] = [e for e in api(stack, "GET", "/api/buy/workflow-executions?type=SELL")["items"]
                   if e["trigger_data"].get("position_id") == opened_position["id"]]
    assert execution["result"] == "EXECUTED" and execution["trigger_data"]["rule"] == reason


def test_partial_then_full_sell_adds_up(stack, jupiter):
    mint, opened_position = opened(stack, jupiter, "ladder", [
        {"type": "take_profit", "percent": 20, "sell_pct": 50}, {"type": "take_profit", "percent": 50}])
    jupiter.set_price(mint, PRICE * Decimal("1.25"), 6)
    half = int(opened_position["tokens_raw"]) - int(opened_position["tokens_raw"]) // 2
    wait_for(lambda: int(position(stack, opened_position["id"])["tokens_raw"]) == half, 15, "the 50 % sell", stack)
    jupiter.set_price(mint, PRICE * Decimal("1.6"), 6)
    closed = wait_closed(stack, opened_position["id"])
    sells = [t for t in closed["trades"] if t["action"] == "SELL"]
    assert len(sells) == 2 and sum(Decimal(t["realized_pnl_sol"]) for t in sells) == Decimal(
        closed["realized_pnl_sol"])
    balance = Decimal(api(stack, "GET", "/api/wallets/ladder")["virtual_sol_balance"])
    assert balance - Decimal("2") == Decimal(closed["realized_pnl_sol"])


def test_duplicated_jobs_and_two_workers_never_double_sell(stack, jupiter):
    mint, opened_position = opened(stack, jupiter, "dupes", [{"type": "take_profit", "percent": 20, "sell_pct": 50}])
    queue = Queue("sell", connection=redis.Redis.from_url(stack.redis_url))
    for _ in range(20):
        queue.enqueue("jobs.sell.check_position_job", opened_position["id"])
    jupiter.set_price(mint, PRICE * Decimal("1.3"), 6)
    for _ in range(20):
        queue.enqueue("jobs.sell.check_position_job", opened_position["id"])
    wait_for(lambda: len(position(stack, opened_position["id"])["trades"]) == 2, 15, "the sell", stack)
    time.sleep(3)  # three more intervals, and the duplicated jobs drained
    assert len(queue) == 0
    sells = [t for t in position(stack, opened_position["id"])["trades"] if t["action"] == "SELL"]
    assert len(sells) == 1


def test_flushall_rebuilds_the_schedule_and_the_position_still_sells(stack, jupiter):
    mint, opened_position = opened(stack, jupiter, "flush", [{"type": "stop_loss", "percent": -5}])
    wait_for(lambda: position(stack, opened_position["id"])["last_checked_at"], 10, "a first check", stack)
    client = redis.Redis.from_url(stack.redis_url)
    client.flushall()
    job_key = f"sell-{opened_position['id']}".encode()
    wait_for(lambda: client.zscore("rq:scheduler:scheduled_jobs", job_key) is not None, 2.5,
             "the schedule to be rebuilt", stack, poll=0.05)
    jupiter.set_price(mint, PRICE * Decimal("0.9"), 6)
    assert wait_closed(stack, opened_position["id"])["close_reason"] == "stop_loss"
    with db(stack) as conn:
        assert conn.execute("SELECT count(*) AS n FROM trade_logs WHERE position_id = %s AND action = 'SELL'",
                            (opened_position["id"],)).fetchone()["n"] == 1
    assert client.zscore("rq:scheduler:scheduled_jobs", job_key) is None  # closed: never checked again

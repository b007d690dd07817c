"""SELL checks (SPEC §5) against real PostgreSQL: each rule closes as specified, sells exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from app.pricing.sources import PriceUnavailable
from app.services.sell_engine import check_position
from app.store.postgres import PostgresStore
from tests.assertions import wallet_balance
from tests.factories import ENTRY_PRICE, MovingPrice, sell_deps, sell_workflow


@pytest.fixture
def market():
    return MovingPrice(ENTRY_PRICE)


def reload(conn, position):
    return conn.execute("SELECT * FROM positions WHERE id = %s", (position["id"],)).fetchone()


def test_hold_records_price_and_raises_the_peak(conn, position, market):
    sell_workflow(conn, [{"type": "take_profit", "percent": 50}])
    market.price = ENTRY_PRICE * Decimal("1.1")
    assert check_position(PostgresStore(conn), position["id"], sell_deps(market))["result"] == "hold"
    after = reload(conn, position)
    assert after["peak_price_sol"] == after["last_price_sol"] == Decimal("0.00011")
    assert after["last_checked_at"] is not None and after["last_check_error"] is None
    market.price = ENTRY_PRICE
    check_position(PostgresStore(conn), position["id"], sell_deps(market))
    assert reload(conn, position)["peak_price_sol"] == Decimal("0.00011")


@pytest.mark.parametrize("rule, path, reason", [
    ({"type": "take_profit", "percent": 20}, [Decimal("1.2")], "take_profit"),
    ({"type": "stop_loss", "percent": -5}, [Decimal("0.95")], "stop_loss"),
    ({"type": "trailing_stop", "percent": -3}, [Decimal("1.5"), Decimal("1.455")], "trailing_stop"),
])
def test_each_price_rule_closes_the_position_exactly(conn, position, market, rule, path, reason):
    workflow = sell_workflow(conn, [rule])
    closed: list = []
    for factor in path:
        market.price = ENTRY_PRICE * factor
        outcome = check_position(PostgresStore(conn), position["id"], sell_deps(market, closed))
    assert outcome["result"] == "sold" and outcome["closed"] is True
    after = reload(conn, position)
    gross = int(position["tokens_raw"]) * market.price * 10**9 // 10**6
    fee = -(-int(gross) * 30 // 10_000)
    net = (Decimal(int(gross)) - fee) / 10**9
    assert (after["status"], after["close_reason"], after["tokens_raw"]) == ("CLOSED", reason, 0)
    assert after["sol_received"] == net and after["realized_pnl_sol"] == net - Decimal("0.05")
    assert wallet_balance(conn) == Decimal("9.95") + net
    assert closed == [position["id"]]
    execution = conn.execute("SELECT * FROM workflow_executions WHERE workflow_id = %s",
                             (workflow["id"],)).fetchone()
    assert execution["result"] == "EXECUTED" and execution["trigger_data"]["rule"] == reason
    assert {"change_from_entry_pct", "change_from_peak_pct", "minutes_since_open"} <= set(execution["trigger_data"])
    assert check_position(PostgresStore(conn), position["id"], sell_deps(market, closed))["result"] == "not_open"


def test_timeout_closes_after_the_minutes(conn, position, market):
    sell_workflow(conn, [{"type": "timeout", "minutes": 30}])
    opened = position["opened_at"]
    assert check_position(PostgresStore(conn),
                          position["id"], sell_deps(market, clock=lambda: opened + timedelta(minutes=29.9)))[
        "result"] == "hold"
    outcome = check_position(PostgresStore(conn),
                             position["id"], sell_deps(market, clock=lambda: opened + timedelta(minutes=30)))
    assert outcome["closed"] is True and reload(conn, position)["close_reason"] == "timeout"


def test_ladder_partial_then_full_and_pnl_adds_up(conn, position, market):
    sell_workflow(conn, [{"type": "take_profit", "percent": 20, "sell_pct": 50},
                         {"type": "take_profit", "percent": 50}])
    market.price = ENTRY_PRICE * Decimal("1.25")
    first = check_position(PostgresStore(conn), position["id"], sell_deps(market))
    assert first["result"] == "sold" and first["closed"] is False
    assert int(first["tokens_sold"]) == int(position["tokens_raw"]) // 2
    assert check_position(PostgresStore(conn),
                          position["id"], sell_deps(market))["result"] == "hold"  # +20 % fired once
    market.price = ENTRY_PRICE * Decimal("1.5")
    assert check_position(PostgresStore(conn), position["id"], sell_deps(market))["closed"] is True
    trades = conn.execute("SELECT * FROM trade_logs WHERE action = 'SELL' ORDER BY created_at").fetchall()
    after = reload(conn, position)
    assert len(trades) == 2 and after["fired_rules"] == ["take_profit:20:50", "take_profit:50:-"]
    assert sum(t["realized_pnl_sol"] for t in trades) == after["realized_pnl_sol"]
    assert wallet_balance(conn) - Decimal("10") == after["realized_pnl_sol"]


def test_concurrent_checks_sell_once_per_trigger(conn, position, market, database_url):
    sell_workflow(conn, [{"type": "take_profit", "percent": 20, "sell_pct": 50}])
    market.price = ENTRY_PRICE * Decimal("1.3")
    barrier = threading.Barrier(8)
    results: list[str] = []

    def work():
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            results.append(check_position(PostgresStore(own), position["id"], sell_deps(market))["result"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["hold"] * 7 + ["sold"]
    assert conn.execute("SELECT count(*) AS n FROM trade_logs WHERE action = 'SELL'").fetchone()["n"] == 1


def test_no_price_records_the_error_and_does_not_sell(conn, position, market):
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])

    def no_price(mint, decimals, tokens):
        raise PriceUnavailable("jupiter: COULD_NOT_FIND_ANY_ROUTE")

    assert check_position(PostgresStore(conn),
                          position["id"], sell_deps(market, mint_price=no_price))["result"] == "no_price"
    after = reload(conn, position)
    assert "COULD_NOT_FIND_ANY_ROUTE" in after["last_check_error"] and after["status"] == "OPEN"
    assert after["last_checked_at"] is not None


def test_failed_sell_logs_error_once_not_every_interval(conn, position, market):
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])
    market.price = ENTRY_PRICE * Decimal("0.9")
    market.fail_fills = True
    for _ in range(3):
        deps = sell_deps(market, mint_price=lambda mint, d, t: ENTRY_PRICE * Decimal("0.9"))
        assert check_position(PostgresStore(conn), position["id"], deps)["result"] == "sell_failed"
    errors_logged = conn.execute("SELECT * FROM workflow_executions WHERE result = 'ERROR'").fetchall()
    assert len(errors_logged) == 1 and "route vanished" in errors_logged[0]["error_message"]
    market.fail_fills = False
    assert check_position(PostgresStore(conn), position["id"], sell_deps(market))["closed"] is True


def test_without_active_sell_workflow_nothing_is_sold(conn, position, market):
    market.price = ENTRY_PRICE / 2
    assert check_position(PostgresStore(conn), position["id"], sell_deps(market))["result"] == "no_sell_workflow"
    assert reload(conn, position)["status"] == "OPEN"


def test_without_shared_price_the_held_amount_is_quoted(conn, position, market):
    sell_workflow(conn, [{"type": "take_profit", "percent": 20}])
    market.price = ENTRY_PRICE * 2
    assert check_position(PostgresStore(conn), position["id"], sell_deps(market, shared_price=False))["closed"] is True

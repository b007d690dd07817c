"""SELL checks on real PostgreSQL with real concurrency: checks racing on their own connections sell a trigger
once (the position's row lock and the rule recorded in fired_rules).

Every store-agnostic SELL rule (hold, take profit, stop loss, trailing stop, timeout, ladder, no price, failed
sells) is a contract test run on both stores: tests/store/test_engine_contract.py.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from app.services.sell_engine import check_position
from app.store.postgres import PostgresStore
from tests.factories import ENTRY_PRICE, MovingPrice, sell_deps, sell_workflow


@pytest.fixture
def market():
    return MovingPrice(ENTRY_PRICE)


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

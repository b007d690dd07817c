"""BUY evaluation on real PostgreSQL with real concurrency: evaluators racing on their own connections open one
position, debit the balance once (the wallet's row lock and the unique indexes, not the engine's bookkeeping).

Every store-agnostic BUY branch (amounts to the lamport, steps, outcomes, exactly-once) is a contract test run
on both stores: tests/store/test_engine_contract.py.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
from tests.assertions import count, wallet_balance
from tests.factories import add_mint, buy_deps, buy_workflow, store_prediction


@pytest.fixture
def trigger(conn, wallet, make_model):
    add_mint(conn)
    return make_model("trigger")


def test_two_workers_evaluating_at_once_open_one_position(conn, trigger, database_url):
    buy_workflow(conn, trigger, cooldown_seconds=0)
    prediction_ids = [store_prediction(conn, trigger, 0.9) for _ in range(8)]
    barrier = threading.Barrier(len(prediction_ids))
    results: list[str] = []

    def work(prediction_id):
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            results.extend(o["result"] for o in evaluate_prediction(PostgresStore(own), prediction_id, buy_deps()))

    threads = [threading.Thread(target=work, args=(pid,)) for pid in prediction_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["EXECUTED"] + ["skipped"] * 7
    assert count(conn, "positions") == 1
    assert wallet_balance(conn) == Decimal("9.95")

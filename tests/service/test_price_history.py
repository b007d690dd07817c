"""Recorded prices: the live engines' decided prices are stored once per mint per interval, then purged."""

from __future__ import annotations

from decimal import Decimal

from app import bootstrap
from app.config import load_config
from app.repos import price_history as price_history_repo
from app.services.buy_engine import evaluate_prediction
from app.services.maintenance import run_maintenance
from app.store.postgres import PostgresStore
from tests import factories


def _history(conn) -> list[dict]:
    return conn.execute("SELECT mint, price_sol, source FROM price_history ORDER BY id").fetchall()


def test_a_sell_checks_price_is_recorded_once_per_mint_per_interval(conn, redis_conn, database_url, redis_url):
    config = load_config({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PRICE_SOURCE": "sim",
                          "SELL_CHECK_INTERVAL_SECONDS": "3600"})
    process = bootstrap.Process(config)
    price = process.sell_deps(conn).mint_price
    first = price(factories.MINT, 6, 1_000_000)
    assert price(factories.MINT, 6, 1_000_000) == first  # the same interval: shared, not quoted again
    [row] = _history(conn)  # the source's exact price (replayable), the check decides on the quote's lamports
    assert (row["mint"], row["source"]) == (factories.MINT, "sim")
    assert first <= row["price_sol"] < first + Decimal("1e-9")  # one lamport for the one whole token quoted
    process.close()


def test_a_filled_buys_quote_is_recorded_with_its_source(conn, redis_conn, database_url, redis_url, wallet,
                                                          make_model):
    config = load_config({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PRICE_SOURCE": "sim"})
    process = bootstrap.Process(config)
    factories.add_mint(conn)
    trigger = make_model("trigger")
    factories.buy_workflow(conn, trigger)
    prediction_id = factories.store_prediction(conn, trigger, 0.9)
    [outcome] = evaluate_prediction(PostgresStore(conn), prediction_id, process.buy_deps(conn))
    assert outcome["result"] == "EXECUTED"
    [quote] = [step for step in conn.execute("SELECT steps_log FROM workflow_executions").fetchone()["steps_log"]
               if step["step"] == "quote"]
    [row] = _history(conn)  # recorded in the buy's apply transaction, once
    assert (row["mint"], row["source"]) == (factories.MINT, "sim")
    assert row["price_sol"] == Decimal(quote["details"]["price_sol"])  # exact: a replay quotes the same raw tokens
    process.close()


def test_maintenance_purges_prices_older_than_the_retention(conn, redis_conn, config):
    price_history_repo.record(conn, "OldMint", Decimal("0.1"), "metrics")
    conn.execute("UPDATE price_history SET ts = now() - interval '31 days'")
    price_history_repo.record(conn, "NewMint", Decimal("0.2"), "metrics")
    counts = run_maintenance(conn, bootstrap.Process(config).dispatcher, 20, 120, 30)
    assert counts["purged_prices"] == 1
    assert [row["mint"] for row in _history(conn)] == ["NewMint"]

"""Per-workflow BUY filters and confidence sizing against real PostgreSQL: each a step in steps_log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
from tests.factories import add_mint, buy_body, buy_deps, create_workflow, mint_for, store_prediction

ALLOWED, DENIED, OTHER = mint_for("allowed"), mint_for("denied"), mint_for("other")


@pytest.fixture
def trigger(conn, wallet, make_model):
    for mint in (ALLOWED, DENIED, OTHER):
        add_mint(conn, mint)
    return make_model("trigger")


def workflow(conn, trigger, **chain_extras):
    body = buy_body(trigger, cooldown_seconds=0, buy_amount_value=Decimal("0.1"))
    body["chain"] = {**body["chain"], **chain_extras}
    return create_workflow(conn, body)


def evaluate(conn, trigger, mint, probability=0.9):
    [outcome] = evaluate_prediction(PostgresStore(conn),
                                    store_prediction(conn, trigger, probability, mint=mint), buy_deps())
    return outcome


def step(conn, outcome, name):
    steps = conn.execute("SELECT steps_log FROM workflow_executions WHERE id = %s",
                         (outcome["execution_id"],)).fetchone()["steps_log"]
    return next(s for s in steps if s["step"] == name)


def add_point(conn, mint, minutes_ago, liquidity=None, volume=None):
    conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol, liquidity_sol, volume_sol) VALUES (%s, %s, 1, %s, %s)",
                 (mint, datetime.now(UTC) - timedelta(minutes=minutes_ago), liquidity, volume))


def test_allow_and_deny_lists(conn, trigger):
    workflow(conn, trigger, filters={"mint_allow": [ALLOWED, DENIED], "mint_deny": [DENIED]})
    assert evaluate(conn, trigger, ALLOWED)["result"] == "EXECUTED"
    denied = evaluate(conn, trigger, DENIED)
    assert denied["result"] == "REJECTED" and step(conn, denied, "mint_filter")["result"] == "denied"
    other = evaluate(conn, trigger, OTHER)
    assert other["result"] == "REJECTED" and step(conn, other, "mint_filter")["result"] == "not_allowed"


def test_minimum_liquidity_and_volume_read_the_latest_point_at_or_before_now(conn, trigger):
    workflow(conn, trigger, filters={"min_liquidity_sol": 50, "min_volume_sol": 5})
    add_point(conn, ALLOWED, 10, liquidity=Decimal(100), volume=Decimal(10))
    add_point(conn, ALLOWED, 2, liquidity=Decimal(40), volume=Decimal(10))  # the latest: too thin
    conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol, liquidity_sol, volume_sol) "
                 "VALUES (%s, now() + interval '10 minutes', 1, 1000, 1000)", (ALLOWED,))  # future: not read
    thin = evaluate(conn, trigger, ALLOWED)
    market = step(conn, thin, "market_filter")
    assert thin["result"] == "REJECTED" and market["result"] == "low_liquidity"
    assert (market["liquidity_sol"], market["min_liquidity_sol"]) == ("40.000000000", "50")
    add_point(conn, OTHER, 1, liquidity=Decimal(60), volume=Decimal(4))
    assert step(conn, evaluate(conn, trigger, OTHER), "market_filter")["result"] == "low_volume"
    nothing = evaluate(conn, trigger, DENIED)
    assert step(conn, nothing, "market_filter")["result"] == "no_metrics"
    add_point(conn, DENIED, 1, liquidity=Decimal(50), volume=Decimal(5))
    passed = evaluate(conn, trigger, DENIED)
    assert passed["result"] == "EXECUTED" and step(conn, passed, "market_filter")["result"] == "passed"


@pytest.mark.parametrize("probability, amount", [(0.7, "0.02"), (0.85, "0.06"), (1.0, "0.1")])
def test_confidence_sizing_is_linear_from_the_threshold_to_one(conn, trigger, probability, amount):
    workflow(conn, trigger, sizing={"type": "confidence", "min_amount": 0.02})  # threshold 0.7, amount 0.1
    outcome = evaluate(conn, trigger, ALLOWED, probability)
    sizing = step(conn, outcome, "confidence_sizing")
    assert outcome["result"] == "EXECUTED" and Decimal(sizing["amount"]) == Decimal(amount)
    spent = conn.execute("SELECT sol_spent FROM positions").fetchone()["sol_spent"]
    assert spent == Decimal(amount)

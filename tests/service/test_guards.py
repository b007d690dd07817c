"""Risk guards against real PostgreSQL and the services around them: the emergency stop racing buys and set from
the environment, per-wallet limits and the circuit breaker as the wallet service changes and resets them.

The guards' store-agnostic engine behaviour (a halt rejecting buys and holding sells, manual sells refused, a
winning sell ending the streak) is a contract test run on both stores: tests/store/test_engine_contract.py.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from app import bootstrap
from app.core.guards import CONFIG_HALT_REASON, CONFIG_HALT_SELLS_REASON
from app.errors import Conflict
from app.pricing.sources import FixedPriceSource
from app.queues.dispatch import RqDispatcher
from app.services import notifications as notification_service
from app.services import trading as trading_service
from app.services import wallets as wallet_service
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.sell_engine import check_position, sell_manually
from app.store.postgres import PostgresStore
from tests.factories import (
    ENTRY_PRICE,
    LOSING,
    MovingPrice,
    Predictor,
    add_mint,
    buy_deps,
    buy_workflow,
    mint_for,
    sell_deps,
    sell_workflow,
    store_prediction,
)


@pytest.fixture
def dispatcher(redis_conn):
    """The real queue port on the test Redis."""
    return RqDispatcher(redis_conn, 15)


@pytest.fixture
def trigger(conn, wallet, make_model):
    return make_model("trigger")


def buy_on(conn, trigger, name, deps=None):
    """Evaluate a 0.9 prediction of `trigger` on a fresh mint named `name`; returns the one outcome."""
    mint = mint_for(name)
    add_mint(conn, mint)
    [outcome] = evaluate_prediction(PostgresStore(conn),
                                    store_prediction(conn, trigger, 0.9, mint=mint), deps or buy_deps())
    return outcome


def steps_of(conn, execution_id):
    return conn.execute("SELECT steps_log FROM workflow_executions WHERE id = %s", (execution_id,)).fetchone()[
        "steps_log"]


def wallet_row(conn):
    return conn.execute("SELECT * FROM wallets").fetchone()


# --- the emergency stop ------------------------------------------------------

def test_trading_halted_in_the_environment_halts_buys(conn, trigger, dispatcher):
    buy_workflow(conn, trigger)
    deps = buy_deps()
    deps.config_halt = True
    outcome = buy_on(conn, trigger, "a", deps)
    assert outcome["result"] == "REJECTED" and steps_of(conn, outcome["execution_id"])[-1]["reason"] == (
        CONFIG_HALT_REASON)
    status = trading_service.resume(conn, "ops", True, dispatcher)  # the environment's halt stays
    assert status["halted"] is True and status["source"] == "config"


def _staggered_source(delays: dict[str, float]) -> FixedPriceSource:
    """Quotes that take their mint's delay: the buys' apply transactions spread over time (quotes hold no lock)."""
    def price_of(mint):
        time.sleep(delays[mint])
        return ENTRY_PRICE, {}
    return FixedPriceSource("slow", price_of)


def test_no_trade_is_written_after_a_racing_halt_returns(conn, trigger, database_url, dispatcher):
    buy_workflow(conn, trigger, cooldown_seconds=0, max_open_positions=100)
    predictions, delays = [], {}
    for k in range(20):
        mint = mint_for(f"race-{k}")
        add_mint(conn, mint)
        predictions.append(store_prediction(conn, trigger, 0.9, mint=mint))
        delays[mint] = 0.02 * (k + 1)
    deps = BuyDeps(price_source=_staggered_source(delays), predict=lambda *a: 0.0, fee_bps=30)
    outcomes: list[dict] = []
    barrier = threading.Barrier(21)

    def evaluate(prediction_id):
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            outcomes.extend(evaluate_prediction(PostgresStore(own), prediction_id, deps))

    threads = [threading.Thread(target=evaluate, args=(p,)) for p in predictions]
    for thread in threads:
        thread.start()
    barrier.wait()
    while conn.execute("SELECT count(*) AS n FROM trade_logs").fetchone()["n"] == 0:
        time.sleep(0.005)
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
        trading_service.halt(own, "race", "continue", "test", False, dispatcher)
    at_halt = {r["id"] for r in conn.execute("SELECT id FROM trade_logs").fetchall()}
    for thread in threads:
        thread.join()
    assert {r["id"] for r in conn.execute("SELECT id FROM trade_logs").fetchall()} == at_halt
    results = sorted(o["result"] for o in outcomes)
    assert len(results) == 20 and set(results) == {"EXECUTED", "REJECTED"}
    assert results.count("EXECUTED") == len(at_halt)
    rejected = conn.execute("SELECT steps_log FROM workflow_executions WHERE result = 'REJECTED'").fetchall()
    assert all(r["steps_log"][-1]["step"] == "halt_check" for r in rejected)


def test_trading_halted_all_in_the_environment_halts_sells_as_a_stored_sells_halt_does(conn, trigger, dispatcher,
                                                                                        config):
    buy_workflow(conn, trigger, cooldown_seconds=0)
    position_id = buy_on(conn, trigger, "a")["position_id"]
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])
    market = MovingPrice(LOSING)
    halted_all = replace(config, trading_halted=True, trading_halted_sells=True)
    deps = bootstrap.sell_deps(halted_all, market.source(), lambda *a: market.price, dispatcher)
    outcome = check_position(PostgresStore(conn), position_id, deps)
    assert outcome["result"] == "halted" and CONFIG_HALT_SELLS_REASON in outcome["error"]
    position = conn.execute("SELECT status, last_check_error FROM positions").fetchone()
    assert position == {"status": "OPEN", "last_check_error": outcome["error"]}
    with pytest.raises(Conflict, match="TRADING_HALTED=all"):
        sell_manually(PostgresStore(conn), position_id, Decimal(100), deps)
    assert conn.execute("SELECT count(*) AS n FROM trade_logs WHERE action = 'SELL'").fetchone()["n"] == 0
    buy = buy_on(conn, trigger, "b", bootstrap.buy_deps(halted_all, market.source(), Predictor({}), dispatcher))
    assert buy["result"] == "REJECTED" and steps_of(conn, buy["execution_id"])[-1]["step"] == "halt_check"
    status = trading_service.resume(conn, "ops", True, dispatcher, config_halt_sells=True)  # the environment's stays
    assert (status["halted"], status["sells"], status["source"], status["reason"]) == (
        True, "halt", "config", CONFIG_HALT_SELLS_REASON)
    trading_service.halt(conn, "also stored", "continue", "ops", True, dispatcher, config_halt_sells=True)
    assert trading_service.status(conn, True, True)["sells"] == "halt"  # a stored halt cannot let sells go on
    buys_only = bootstrap.sell_deps(replace(config, trading_halted=True), market.source(), lambda *a: market.price,
                                    dispatcher)
    trading_service.resume(conn, "ops", True, dispatcher)
    assert check_position(PostgresStore(conn),
                          position_id, buys_only)["result"] == "sold"  # TRADING_HALTED=1: sells go on


def test_simulated_runs_ignore_the_environments_halt(config):
    halted_all = replace(config, trading_halted=True, trading_halted_sells=True)
    source = MovingPrice().source()
    assert bootstrap.sell_deps(halted_all, source).config_halt_sells is False
    assert bootstrap.buy_deps(halted_all, source, Predictor({})).config_halt is False


# --- per-wallet limits -------------------------------------------------------

def limits_step(conn, outcome):
    return next(s for s in steps_of(conn, outcome["execution_id"]) if s["step"] == "limits_check")


def test_max_buys_per_utc_day(conn, trigger):
    buy_workflow(conn, trigger, cooldown_seconds=0)
    wallet_service.update_wallet(conn, "w1", {"max_buys_per_day": 2})
    assert [buy_on(conn, trigger, n)["result"] for n in "ab"] == ["EXECUTED", "EXECUTED"]
    third = buy_on(conn, trigger, "c")
    step = limits_step(conn, third)
    assert third["result"] == "REJECTED" and step["limit"] == "max_buys_per_day"
    assert (step["buys_today"], step["max_buys_per_day"]) == (2, 2)
    wallet_service.update_wallet(conn, "w1", {"max_buys_per_day": None})
    assert buy_on(conn, trigger, "d")["result"] == "EXECUTED"


def test_max_position_pct_of_the_balance(conn, trigger):
    buy_workflow(conn, trigger)  # 0.05 SOL of 10 SOL is 0.5 %
    wallet_service.update_wallet(conn, "w1", {"max_position_pct": Decimal("0.4")})
    outcome = buy_on(conn, trigger, "a")
    step = limits_step(conn, outcome)
    assert outcome["result"] == "REJECTED" and step["limit"] == "max_position_pct"
    assert (step["amount_sol"], step["balance_sol"], step["max_position_pct"]) == (
        "0.050000000", "10.000000000", "0.40")
    wallet_service.update_wallet(conn, "w1", {"max_position_pct": Decimal("0.5")})
    executed = buy_on(conn, trigger, "b")
    assert executed["result"] == "EXECUTED" and limits_step(conn, executed)["result"] == "passed"


def test_max_daily_realised_loss(conn, trigger):
    buy_workflow(conn, trigger, cooldown_seconds=0)
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])
    position_id = buy_on(conn, trigger, "a")["position_id"]
    assert check_position(PostgresStore(conn), position_id, sell_deps(MovingPrice(LOSING)))["result"] == "sold"
    loss = -conn.execute("SELECT realized_pnl_sol FROM trade_logs WHERE action = 'SELL'").fetchone()[
        "realized_pnl_sol"]
    wallet_service.update_wallet(conn, "w1", {"max_daily_loss_sol": loss})
    outcome = buy_on(conn, trigger, "b")
    step = limits_step(conn, outcome)
    assert outcome["result"] == "REJECTED" and step["limit"] == "max_daily_loss_sol"
    assert Decimal(step["realized_loss_today_sol"]) == loss
    wallet_service.update_wallet(conn, "w1", {"max_daily_loss_sol": loss + Decimal("0.000000001")})
    assert buy_on(conn, trigger, "c")["result"] == "EXECUTED"


# --- the circuit breaker -----------------------------------------------------

def test_breaker_trips_on_the_third_losing_sell_not_before_and_resets(conn, trigger):
    buy_workflow(conn, trigger, cooldown_seconds=0)
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])
    positions = [buy_on(conn, trigger, n)["position_id"] for n in "abc"]
    for sold, position_id in enumerate(positions, start=1):
        assert check_position(PostgresStore(conn), position_id, sell_deps(MovingPrice(LOSING)))["result"] == "sold"
        row = wallet_row(conn)
        assert row["losing_streak"] == sold
        assert (row["breaker_tripped_at"] is not None) == (sold == 3)
    assert wallet_row(conn)["breaker_reason"] == "3 consecutive losing sells"
    paused = buy_on(conn, trigger, "d")
    assert paused["result"] == "REJECTED" and limits_step(conn, paused)["limit"] == "circuit_breaker"
    reset = wallet_service.reset_circuit_breaker(conn, "w1")
    assert reset["breaker_tripped_at"] is None and reset["losing_streak"] == 0
    assert buy_on(conn, trigger, "e")["result"] == "EXECUTED"


def test_concurrent_losing_sells_are_counted_exactly(conn, trigger, database_url):
    buy_workflow(conn, trigger, cooldown_seconds=0, max_open_positions=10)
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])
    wallet_service.update_wallet(conn, "w1", {"breaker_losing_sells": 6})
    positions = [buy_on(conn, trigger, f"p{k}")["position_id"] for k in range(6)]
    barrier = threading.Barrier(6)

    def sell(position_id):
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            check_position(PostgresStore(own), position_id, sell_deps(MovingPrice(LOSING)))

    threads = [threading.Thread(target=sell, args=(p,)) for p in positions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = wallet_row(conn)
    assert row["losing_streak"] == 6 and row["breaker_reason"] == "6 consecutive losing sells"


# --- what the guards notify --------------------------------------------------

def recorded_events(conn) -> list[str]:
    return [row["event"] for row in conn.execute("SELECT event FROM notification_deliveries ORDER BY id")]


def test_halt_resume_and_a_tripped_breaker_are_notified_in_their_transaction(conn, trigger, dispatcher):
    notification_service.create_endpoint(conn, {"kind": "webhook", "url": "http://127.0.0.1:9/hook", "events": [
        "trading_halted", "trading_resumed", "circuit_breaker_tripped"]}, None)
    trading_service.halt(conn, "exchange outage", "continue", "ops", False, dispatcher)
    trading_service.resume(conn, "ops", False, dispatcher)
    assert recorded_events(conn) == ["trading_halted", "trading_resumed"]
    buy_workflow(conn, trigger, cooldown_seconds=0)
    sell_workflow(conn, [{"type": "stop_loss", "percent": -5}])
    deps = sell_deps(MovingPrice(LOSING))
    deps.on_event = lambda event: notification_service.emit(conn, event, dispatcher)
    for name in "abc":
        check_position(PostgresStore(conn), buy_on(conn, trigger, name)["position_id"], deps)
    assert recorded_events(conn)[2:] == ["circuit_breaker_tripped"]
    payload = conn.execute("SELECT payload FROM notification_deliveries WHERE event = 'circuit_breaker_tripped'")
    assert payload.fetchone()["payload"]["data"]["reason"] == "3 consecutive losing sells"

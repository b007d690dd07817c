"""REAL orders end to end through the engines on the local LiteSVM chain, against real PostgreSQL.

Every case compares what the database says with what the chain holds, to the lamport and raw unit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from uuid import UUID

import pytest
from cryptography.fernet import Fernet
from rq.job import Job

from app.chain.rpc import ChainUnavailable, SolanaRpcClient
from app.config import load_config
from app.core.solana import lamports_to_sol
from app.errors import Conflict
from app.pricing.jupiter import JupiterClient
from app.queues.dispatch import RECONCILE_JOB_ID, RqDispatcher
from app.services import wallets as wallet_service
from app.services.buy_engine import evaluate_prediction
from app.services.chain_orders import ChainExecutor
from app.services.maintenance import run_maintenance
from app.services.reconciler import execute_order, reconcile_orders
from app.services.sell_engine import check_position, sell_manually
from app.store.postgres import PostgresStore
from tests.factories import (
    WALLET_ALIAS,
    MovingPrice,
    buy_deps,
    buy_workflow,
    sell_deps,
    sell_workflow,
    store_prediction,
)
from tests.fakes.chain_world import PRICE, WALLET_LAMPORTS, ChainWorld, FakeClock, chain_world

BUY_SOL = Decimal("0.1")
STOP_LOSS = [{"type": "stop_loss", "percent": -5.0, "from": "entry"}]


@pytest.fixture
def world() -> Iterator[ChainWorld]:
    with chain_world() as built:
        yield built


@pytest.fixture
def real_env(database_url, redis_url, world) -> dict[str, str]:
    """The environment of a service trading REAL wallets on the local chain."""
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SOLANA_RPC_URL": world.rpc.url,
            "JUPITER_BASE_URL": world.jupiter.base_url, "WALLET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PRICE_SOURCE": "metrics", "SOL_RESERVE": "0.01"}


@pytest.fixture
def real_config(real_env):
    return load_config(real_env)


@pytest.fixture
def executor(real_config, world) -> ChainExecutor:
    clock = FakeClock()
    return ChainExecutor(real_config, SolanaRpcClient(world.rpc.url, timeout=5),
                         JupiterClient(world.jupiter.base_url, None, timeout=5, sleep=lambda _: None),
                         sleep=clock.sleep, monotonic=clock.monotonic)


@pytest.fixture
def real_wallet(conn, real_config, world) -> dict:
    return wallet_service.create_wallet(conn, {"alias": WALLET_ALIAS, "type": "REAL",
                                               "secret_key": world.key.secret_b58}, real_config)


@pytest.fixture
def trigger(conn, real_wallet, make_model) -> int:
    return make_model("trigger")


def real_buy(conn, trigger, world, executor, **workflow) -> dict:
    """A 0.9 prediction of `trigger` on the world's mint through the BUY engine; the one outcome."""
    buy_workflow(conn, trigger, buy_amount_value=float(BUY_SOL), **workflow)
    deps = buy_deps()
    deps.chain = executor
    [outcome] = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9, mint=world.mint), deps)
    return outcome


def orders(conn) -> list[dict]:
    return conn.execute("SELECT * FROM orders ORDER BY created_at").fetchall()


def sell_check(conn, position_id, executor, price: Decimal) -> dict:
    deps = sell_deps(MovingPrice(price))
    deps.chain = executor
    return check_position(PostgresStore(conn), position_id, deps)


def assert_database_equals_chain(conn, world) -> None:
    """The wallet's SOL moved exactly as the filled orders say; the open positions hold exactly its tokens."""
    moved = conn.execute("SELECT coalesce(sum(sol_change_lamports), 0) AS n FROM orders").fetchone()["n"]
    assert world.lamports() == WALLET_LAMPORTS + moved
    held = conn.execute("SELECT coalesce(sum(tokens_raw), 0) AS n FROM positions WHERE status = 'OPEN'").fetchone()
    assert world.tokens() == held["n"]


def test_a_real_buy_fills_at_the_actual_amounts(conn, trigger, world, executor):
    outcome = real_buy(conn, trigger, world, executor)

    assert outcome["result"] == "EXECUTED", outcome
    [order] = orders(conn)
    assert order["state"] == "FILLED" and not order["is_paper"] and order["signature"]
    position = conn.execute("SELECT * FROM positions").fetchone()
    spent = -order["sol_change_lamports"] - order["rent_lamports"]
    assert position["sol_spent"] == lamports_to_sol(spent)
    assert order["rent_lamports"] == 2_039_280 and order["in_amount"] == 10**8
    assert int(position["tokens_raw"]) == world.tokens() == int(order["out_amount"])
    trade = conn.execute("SELECT * FROM trade_logs").fetchone()
    assert trade["tx_signature"] == order["signature"] and not trade["is_paper"] and trade["order_id"] == order["id"]
    assert_database_equals_chain(conn, world)


def test_a_stop_loss_sells_on_chain_and_realised_pnl_uses_the_actual_sol(conn, trigger, world, executor):
    real_buy(conn, trigger, world, executor)
    sell_workflow(conn, STOP_LOSS)
    position = conn.execute("SELECT * FROM positions").fetchone()
    world.jupiter.move_price(world.mint, PRICE * Decimal("0.9"))

    outcome = sell_check(conn, position["id"], executor, PRICE * Decimal("0.9"))

    assert outcome["result"] == "sold" and outcome["closed"], outcome
    sold = conn.execute("SELECT * FROM positions").fetchone()
    sell_order = orders(conn)[1]
    assert sell_order["side"] == "SELL" and sell_order["state"] == "FILLED"
    assert sold["status"] == "CLOSED" and sold["close_reason"] == "stop_loss" and world.tokens() == 0
    assert sold["sol_received"] == lamports_to_sol(sell_order["sol_change_lamports"])
    assert sold["realized_pnl_sol"] == sold["sol_received"] - sold["sol_spent"]
    assert_database_equals_chain(conn, world)


def test_dropped_sends_land_on_rebroadcast(conn, trigger, world, executor):
    world.chain.drop_next_sends(2)

    assert real_buy(conn, trigger, world, executor)["result"] == "EXECUTED"
    assert orders(conn)[0]["state"] == "FILLED"
    assert_database_equals_chain(conn, world)


def test_every_send_dropped_expires_with_no_position_and_frees_the_slot(conn, trigger, world, executor):
    world.chain.drop_next_sends(10_000)

    outcome = real_buy(conn, trigger, world, executor)

    assert outcome["result"] == "ERROR" and "EXPIRED" in outcome["reason"]
    [order] = orders(conn)
    assert order["state"] == "EXPIRED" and order["signature"]
    assert conn.execute("SELECT count(*) AS n FROM positions").fetchone()["n"] == 0
    assert world.lamports() == WALLET_LAMPORTS


def test_an_on_chain_failure_is_failed_with_the_program_error_and_the_fee(conn, trigger, world, executor):
    world.jupiter.fail_next_swap_on_chain()

    outcome = real_buy(conn, trigger, world, executor)

    assert outcome["result"] == "ERROR"
    [order] = orders(conn)
    assert order["state"] == "FAILED" and "InstructionError" in order["error"]
    assert order["fee_lamports"] > 0 and world.lamports() == WALLET_LAMPORTS - order["fee_lamports"]
    assert conn.execute("SELECT count(*) AS n FROM positions").fetchone()["n"] == 0
    steps = conn.execute("SELECT steps_log FROM workflow_executions").fetchone()["steps_log"]
    assert steps[-1]["step"] == "chain_order" and steps[-1]["state"] == "FAILED"


def test_a_503_after_landing_is_found_by_signature(conn, trigger, world, executor):
    world.rpc.fail_after_landing_with_503()

    assert real_buy(conn, trigger, world, executor)["result"] == "EXECUTED"
    assert orders(conn)[0]["state"] == "FILLED"
    assert_database_equals_chain(conn, world)


def test_a_simulation_error_is_never_sent(conn, trigger, world, executor):
    world.jupiter.simulation_error_next_swap()

    outcome = real_buy(conn, trigger, world, executor)

    [order] = orders(conn)
    assert outcome["result"] == "ERROR" and order["state"] == "FAILED" and order["signature"] is None
    assert "simulation" in order["error"] and world.lamports() == WALLET_LAMPORTS


def test_a_price_moved_between_quote_and_swap_records_the_actual_fill(conn, trigger, world, executor):
    class MovingJupiter(JupiterClient):
        def quote(self, *args, **kwargs):
            quote = super().quote(*args, **kwargs)
            world.jupiter.move_price(world.mint, PRICE * Decimal("1.02"))  # 2 % worse, within the 300 bps allowed
            return quote

    executor.jupiter = MovingJupiter(world.jupiter.base_url, None, timeout=5, sleep=lambda _: None)

    assert real_buy(conn, trigger, world, executor, slippage_bps=300)["result"] == "EXECUTED"

    [order] = orders(conn)
    assert order["slippage_bps"] == 300 and int(order["out_amount"]) < int(order["quoted_out"])
    assert int(conn.execute("SELECT tokens_raw FROM positions").fetchone()["tokens_raw"]) == world.tokens()
    assert world.jupiter.swap_requests[-1]["quoteResponse"]["slippageBps"] == 300


def test_an_open_sell_order_is_not_sold_again_and_a_failed_one_may_fire_again(conn, trigger, world, executor):
    real_buy(conn, trigger, world, executor)
    sell_workflow(conn, STOP_LOSS)
    position_id = conn.execute("SELECT id FROM positions").fetchone()["id"]
    low = PRICE * Decimal("0.9")
    world.chain.drop_next_sends(10_000)
    executor.max_seconds = 0  # the send loop gives up at once: the order stays SENT for the reconciler

    assert sell_check(conn, position_id, executor, low)["result"] == "order_placed"
    assert sell_check(conn, position_id, executor, low)["result"] == "order_open"
    world.chain.advance_blocks(200)
    reconcile_orders(PostgresStore(conn), executor, buy_deps(), sell_deps(MovingPrice(low)))
    assert [o["state"] for o in orders(conn)] == ["FILLED", "EXPIRED"]

    world.chain.stop_dropping_sends()
    executor.max_seconds = 75
    assert sell_check(conn, position_id, executor, low)["result"] == "sold"
    assert_database_equals_chain(conn, world)


def test_reconciler_fails_a_pending_order_whose_worker_stopped_before_sending(conn, trigger, world, executor):
    buy_workflow(conn, trigger)
    conn.execute(
        """INSERT INTO orders (wallet_id, side, mint, is_paper, workflow_id, prediction_id, in_amount, created_at)
           SELECT w.id, 'BUY', %s, false, tw.id, %s, 1000, now() - interval '10 minutes'
           FROM wallets w JOIN trading_workflows tw ON tw.wallet_id = w.id""",
        (world.mint, store_prediction(conn, trigger, 0.9, mint=world.mint)))

    counts = reconcile_orders(PostgresStore(conn), executor, buy_deps(), sell_deps(MovingPrice()))

    assert counts["FAILED"] == 1
    [order] = orders(conn)
    assert order["state"] == "FAILED" and "never sent" in order["error"]
    assert world.lamports() == WALLET_LAMPORTS


KILLED_WORKER = """
import sys
from uuid import UUID
from app import bootstrap
from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
process = bootstrap.process()
with process.db() as conn:
    evaluate_prediction(PostgresStore(conn), UUID(sys.argv[1]), process.buy_deps(conn))
"""


def test_kill_9_after_the_signature_is_stored_the_reconciler_fills_it_once(conn, trigger, world, real_env, executor):
    buy_workflow(conn, trigger, buy_amount_value=float(BUY_SOL))
    prediction_id = store_prediction(conn, trigger, 0.9, mint=world.mint)
    world.chain.delay_landing(60)  # sent, and it lands 60 blocks later (the worker's polls make ~5 blocks a second)
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, str(prediction_id)],
                              env={**os.environ, **real_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: conn.execute("SELECT 1 FROM orders WHERE state = 'SENT'").fetchone() is not None, 30)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert orders(conn)[0]["state"] == "SENT"  # the worker died between storing the signature and the result
    world.chain.advance_blocks(61)  # it lands now, with nobody left to apply it

    for _ in range(3):  # the reconciler at scheduler start, and again a minute later: applied once
        reconcile_orders(PostgresStore(conn), executor, buy_deps(), sell_deps(MovingPrice()))

    [order] = orders(conn)
    assert order["state"] == "FILLED"
    assert conn.execute("SELECT count(*) AS n FROM positions").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM workflow_executions WHERE result = 'EXECUTED'").fetchone()["n"] == 1
    assert len(world.jupiter.swaps) == 1  # never a second transaction for the order
    assert_database_equals_chain(conn, world)


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_manual_real_sell_is_an_order_a_worker_sends(conn, trigger, world, executor):
    real_buy(conn, trigger, world, executor)
    position_id = conn.execute("SELECT id FROM positions").fetchone()["id"]
    handed: list = []
    deps = sell_deps(MovingPrice())
    deps.chain, deps.on_order_placed = executor, handed.append

    placed = sell_manually(PostgresStore(conn), position_id, Decimal(50), deps)

    assert placed["state"] == "PENDING" and handed == [UUID(placed["order_id"])]
    with pytest.raises(Conflict, match="in flight"):
        sell_manually(PostgresStore(conn), position_id, Decimal(50), deps)
    assert execute_order(PostgresStore(conn), handed[0], executor, buy_deps(), deps) == "FILLED"
    position = conn.execute("SELECT * FROM positions").fetchone()
    assert position["status"] == "OPEN" and int(position["tokens_raw"]) == world.tokens() > 0
    sell = conn.execute("SELECT * FROM trade_logs WHERE action = 'SELL'").fetchone()
    assert sell["rule"] == "manual" and sell["tx_signature"]
    assert_database_equals_chain(conn, world)


def test_maintenance_starts_the_reconciler_only_while_orders_are_in_flight(conn, trigger, world, redis_conn):
    dispatcher = RqDispatcher(redis_conn, 15)
    run_maintenance(conn, dispatcher, 20, 120)
    assert not Job.exists(RECONCILE_JOB_ID, connection=redis_conn)
    buy_workflow(conn, trigger)
    conn.execute(
        """INSERT INTO orders (wallet_id, side, mint, is_paper, in_amount)
           SELECT id, 'BUY', %s, false, 1000 FROM wallets""", (world.mint,))

    assert run_maintenance(conn, dispatcher, 20, 120)["open_orders"] == 1
    assert Job.fetch(RECONCILE_JOB_ID, connection=redis_conn).func_name == "jobs.orders.reconcile"


def test_percent_sizing_uses_the_chain_balance_minus_the_reserve(conn, trigger, world, executor):
    buy_workflow(conn, trigger, buy_amount_mode="percent", buy_amount_value=10)
    deps = buy_deps()
    deps.chain = executor

    [outcome] = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9, mint=world.mint), deps)

    assert outcome["result"] == "EXECUTED", outcome
    reserve = 10_000_000  # SOL_RESERVE 0.01
    assert int(orders(conn)[0]["in_amount"]) == (WALLET_LAMPORTS - reserve) // 10


def test_a_node_failing_after_the_send_leaves_the_order_sent_and_the_reconciler_books_it(conn, trigger, world,
                                                                                           executor):
    class FlakyNode(SolanaRpcClient):
        def get_transaction(self, signature):
            raise ChainUnavailable("getTransaction: RPC node answered HTTP 503")

    healthy = executor.rpc
    executor.rpc = FlakyNode(world.rpc.url, timeout=5)

    outcome = real_buy(conn, trigger, world, executor)

    assert outcome["result"] == "order_sent" and orders(conn)[0]["state"] == "SENT"
    assert conn.execute("SELECT count(*) AS n FROM workflow_executions").fetchone()["n"] == 0
    executor.rpc = healthy
    reconcile_orders(PostgresStore(conn), executor, buy_deps(), sell_deps(MovingPrice()))
    assert orders(conn)[0]["state"] == "FILLED"
    assert conn.execute("SELECT result FROM workflow_executions").fetchone()["result"] == "EXECUTED"
    assert_database_equals_chain(conn, world)

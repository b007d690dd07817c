"""Approving a REAL wallet's BUY on the local LiteSVM chain, against real PostgreSQL: it reserves, a worker sends.

Approval sizes the buy from the chain balance (less SOL_RESERVE), reserves a PENDING order in the approving
transaction and hands its id to `on_order_placed`; nothing reaches Jupiter or the chain until `execute_order` (the
worker's job) sends it and books the fill with an EXECUTED execution naming the approval. Through the API the
hand-off is enqueued only after the request commits. Approving twice is a Conflict and reserves no second order.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from rq.job import Job

from app.errors import Conflict
from app.queues.dispatch import RqDispatcher
from app.services import approvals as approval_service
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.reconciler import execute_order
from app.store.postgres import PostgresStore
from tests.factories import MovingPrice, buy_deps, buy_workflow, sell_deps, store_prediction
from tests.fakes.chain_world import ChainWorld, chain_world
from tests.service import test_real_orders as real_orders

WALLET_LAMPORTS = 2 * 10**9
RESERVE = 10_000_000  # real_env's SOL_RESERVE 0.01

# test_real_orders' fixtures (built on this module's 2 SOL `world`) and its orders() reader
real_env, real_config, executor = real_orders.real_env, real_orders.real_config, real_orders.executor
real_wallet, trigger, orders = real_orders.real_wallet, real_orders.trigger, real_orders.orders


@pytest.fixture
def world() -> Iterator[ChainWorld]:
    """The local chain, the wallet holding 2 SOL."""
    with chain_world(wallet_lamports=WALLET_LAMPORTS) as built:
        yield built


@pytest.fixture
def config(real_config):
    """conftest's `app` and `client` serve the REAL wallet on the local chain."""
    return real_config


def chain_deps(executor, handed: list) -> BuyDeps:
    deps = buy_deps()
    deps.chain, deps.on_order_placed = executor, handed.append
    return deps


def pending_approval(conn, trigger, world, executor, **workflow) -> dict:
    """A require_approval BUY workflow's PENDING approval on a 0.9 prediction of the world's mint."""
    buy_workflow(conn, trigger, require_approval=True, **workflow)
    prediction = store_prediction(conn, trigger, 0.9, mint=world.mint)
    [outcome] = evaluate_prediction(PostgresStore(conn), prediction, chain_deps(executor, []))
    assert outcome["result"] == "awaiting_approval", outcome
    [approval] = approval_service.list_approvals(conn, "PENDING")
    return approval


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def assert_reserved_not_sent(conn, world, outcome: dict, in_amount: int) -> UUID:
    """The approval reserved one PENDING order of in_amount lamports; nothing was quoted, swapped or sent."""
    assert outcome["result"] == "order_sent", outcome
    [order] = orders(conn)
    assert str(order["id"]) == outcome["order_id"]
    assert order["state"] == "PENDING" and not order["is_paper"] and order["signature"] is None
    assert int(order["in_amount"]) == in_amount
    assert count(conn, "positions") == 0 and count(conn, "workflow_executions") == 0
    assert world.jupiter.swap_requests == [] and world.jupiter.swaps == [] and world.lamports() == WALLET_LAMPORTS
    return order["id"]


def assert_the_worker_fills_it(conn, world, executor, order_id: UUID, approval: dict) -> None:
    """execute_order sends the order once and books a position and an EXECUTED execution naming the approval."""
    assert execute_order(PostgresStore(conn), order_id, executor, buy_deps(), sell_deps(MovingPrice())) == "FILLED"
    [order] = orders(conn)
    assert order["state"] == "FILLED" and order["signature"] and len(world.jupiter.swaps) == 1
    [position] = conn.execute("SELECT * FROM positions").fetchall()
    assert position["status"] == "OPEN" and int(position["tokens_raw"]) == world.tokens() > 0
    [execution] = conn.execute("SELECT * FROM workflow_executions").fetchall()
    assert execution["result"] == "EXECUTED" and execution["approval_id"] == approval["id"]
    assert world.lamports() == WALLET_LAMPORTS + order["sol_change_lamports"]


def test_a_percent_buy_is_sized_from_the_chain_reserved_on_approve_and_sent_by_the_worker(
        conn, trigger, world, executor):
    approval = pending_approval(conn, trigger, world, executor, buy_amount_mode="percent", buy_amount_value=5)
    handed: list[UUID] = []

    decided = approval_service.approve(conn, approval["id"], "tester", chain_deps(executor, handed))

    assert decided["status"] == "APPROVED" and decided["decided_by"] == "tester"
    order_id = assert_reserved_not_sent(conn, world, decided["outcome"], (WALLET_LAMPORTS - RESERVE) * 5 // 100)
    assert handed == [order_id]
    assert_the_worker_fills_it(conn, world, executor, order_id, approval)


def test_a_fixed_amount_buy_is_reserved_on_approve_and_sent_by_the_worker(conn, trigger, world, executor):
    approval = pending_approval(conn, trigger, world, executor, buy_amount_value=0.1)
    handed: list[UUID] = []

    decided = approval_service.approve(conn, approval["id"], "tester", chain_deps(executor, handed))

    order_id = assert_reserved_not_sent(conn, world, decided["outcome"], 10**8)
    assert handed == [order_id]
    assert_the_worker_fills_it(conn, world, executor, order_id, approval)


def test_approving_twice_is_a_conflict_and_reserves_no_second_order(conn, trigger, world, executor):
    approval = pending_approval(conn, trigger, world, executor, buy_amount_value=0.1)
    handed: list[UUID] = []
    approval_service.approve(conn, approval["id"], "tester", chain_deps(executor, handed))

    with pytest.raises(Conflict, match="APPROVED"):
        approval_service.approve(conn, approval["id"], "tester", chain_deps(executor, handed))

    assert len(orders(conn)) == 1 and len(handed) == 1 and world.jupiter.swap_requests == []


def test_the_api_approves_and_enqueues_the_order_only_after_the_commit(conn, client, redis_conn, trigger, world,
                                                                       executor, monkeypatch):
    approval = pending_approval(conn, trigger, world, executor, buy_amount_mode="percent", buy_amount_value=5)
    seen: list = []  # the order as another connection sees it when the dispatcher is called: committed or None
    enqueue = RqDispatcher.execute_order

    def recording(self, order_id):
        seen.append(conn.execute("SELECT state FROM orders WHERE id = %s", (order_id,)).fetchone())
        enqueue(self, order_id)

    monkeypatch.setattr(RqDispatcher, "execute_order", recording)

    answer = client.post(f"/api/approvals/{approval['id']}/approve")

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["id"] == str(approval["id"]) and body["status"] == "APPROVED"
    order_id = assert_reserved_not_sent(conn, world, body["outcome"], (WALLET_LAMPORTS - RESERVE) * 5 // 100)
    assert seen == [{"state": "PENDING"}]
    assert Job.fetch(f"order-{order_id}", connection=redis_conn).func_name == "jobs.orders.execute"
    assert_the_worker_fills_it(conn, world, executor, order_id, approval)

"""Human approval of BUYs against real PostgreSQL: pending instead of buying, approve re-checks, once, expiry."""

from __future__ import annotations

import threading
from dataclasses import replace

import psycopg
import pytest
from psycopg.rows import dict_row

from app.errors import Conflict
from app.services import approvals as approval_service
from app.services import trading as trading_service
from app.services.buy_engine import evaluate_prediction
from app.services.maintenance import run_maintenance
from app.store.postgres import PostgresStore
from tests.factories import add_mint, buy_deps, buy_workflow, mint_for, store_prediction


@pytest.fixture
def trigger(conn, wallet, make_model):
    return make_model("trigger")


def count(conn, table, where="TRUE"):
    return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}").fetchone()["n"]


def pending(conn, trigger, name="a", deps=None):
    """A require_approval workflow's outcome on a 0.9 prediction of a fresh mint; returns (outcome, approval)."""
    mint = mint_for(name)
    add_mint(conn, mint)
    [outcome] = evaluate_prediction(PostgresStore(conn),
                                    store_prediction(conn, trigger, 0.9, mint=mint), deps or buy_deps())
    return outcome, approval_service.list_approvals(conn, "PENDING")[0]


def test_a_require_approval_workflow_waits_with_the_steps_log_and_buys_nothing(conn, trigger):
    buy_workflow(conn, trigger, require_approval=True)
    outcome, approval = pending(conn, trigger)
    assert outcome["result"] == "awaiting_approval" and outcome["approval_id"] == str(approval["id"])
    assert approval["steps_log"][0]["step"] == "trigger"
    assert approval["steps_log"][-1] == {"step": "approval", "result": "waiting", "amount_sol": "0.050000000"}
    assert count(conn, "trade_logs") == 0 and count(conn, "workflow_executions") == 0
    assert (approval["expires_at"] - approval["created_at"]).total_seconds() == 3600


def test_approve_buys_once_with_an_execution_referencing_the_approval(conn, trigger):
    buy_workflow(conn, trigger, require_approval=True)
    _, approval = pending(conn, trigger)
    decided = approval_service.approve(conn, approval["id"], "ops", buy_deps())
    assert decided["status"] == "APPROVED" and decided["decided_by"] == "ops"
    assert decided["outcome"]["result"] == "EXECUTED"
    execution = conn.execute("SELECT * FROM workflow_executions").fetchone()
    assert execution["approval_id"] == approval["id"] and execution["result"] == "EXECUTED"
    assert [s["result"] for s in execution["steps_log"] if s["step"] == "approval"] == ["waiting", "approved"]
    with pytest.raises(Conflict):
        approval_service.approve(conn, approval["id"], "ops", buy_deps())
    assert count(conn, "trade_logs") == 1


def test_approve_re_checks_the_halt(conn, trigger, redis_conn):
    from app.queues.dispatch import RqDispatcher
    buy_workflow(conn, trigger, require_approval=True)
    _, approval = pending(conn, trigger)
    trading_service.halt(conn, "exchange outage", "continue", "ops", False, RqDispatcher(redis_conn, 15))
    decided = approval_service.approve(conn, approval["id"], "ops", buy_deps())
    assert decided["outcome"]["result"] == "REJECTED" and "exchange outage" in decided["outcome"]["reason"]
    assert count(conn, "trade_logs") == 0


def test_approve_re_checks_the_balance(conn, trigger):
    buy_workflow(conn, trigger, require_approval=True)
    _, approval = pending(conn, trigger)
    conn.execute("UPDATE wallets SET virtual_sol_balance = 0.01")
    decided = approval_service.approve(conn, approval["id"], "ops", buy_deps())
    assert decided["outcome"]["result"] == "REJECTED"
    assert count(conn, "trade_logs") == 0


def test_two_concurrent_approvals_of_one_approval_buy_once(conn, trigger, database_url):
    buy_workflow(conn, trigger, require_approval=True)
    _, approval = pending(conn, trigger)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve():
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            try:
                results.append(approval_service.approve(own, approval["id"], "ops", buy_deps())["outcome"]["result"])
            except Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["EXECUTED", "conflict"]
    assert count(conn, "trade_logs") == 1 and count(conn, "positions") == 1


def test_an_expired_approval_never_buys_and_is_logged_expired(conn, trigger, redis_conn):
    from app.queues.dispatch import RqDispatcher
    buy_workflow(conn, trigger, require_approval=True)
    _, approval = pending(conn, trigger, deps=replace(buy_deps(), approval_ttl_seconds=3600))
    conn.execute("UPDATE approvals SET expires_at = now() - interval '1 second'")
    with pytest.raises(Conflict, match="expired"):
        approval_service.approve(conn, approval["id"], "ops", buy_deps())
    assert run_maintenance(conn, RqDispatcher(redis_conn, 15), 20, 120)["expired_approvals"] == 1
    with pytest.raises(Conflict, match="EXPIRED"):
        approval_service.approve(conn, approval["id"], "ops", buy_deps())
    execution = conn.execute("SELECT * FROM workflow_executions").fetchone()
    assert execution["result"] == "REJECTED" and execution["approval_id"] == approval["id"]
    assert execution["steps_log"][-1]["result"] == "expired"
    assert count(conn, "trade_logs") == 0 and count(conn, "positions") == 0


def test_reject_logs_a_rejected_execution_naming_the_key(conn, trigger):
    buy_workflow(conn, trigger, require_approval=True)
    _, approval = pending(conn, trigger)
    decided = approval_service.reject(conn, approval["id"], "alice")
    assert decided["status"] == "REJECTED" and decided["decided_by"] == "alice"
    execution = conn.execute("SELECT * FROM workflow_executions").fetchone()
    assert execution["result"] == "REJECTED" and execution["steps_log"][-1] == {
        "step": "approval", "result": "rejected", "by": "alice"}
    with pytest.raises(Conflict):
        approval_service.approve(conn, approval["id"], "ops", buy_deps())
    assert count(conn, "trade_logs") == 0


def test_without_require_approval_the_workflow_buys_directly(conn, trigger):
    buy_workflow(conn, trigger)
    mint = mint_for("direct")
    add_mint(conn, mint)
    [outcome] = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9, mint=mint), buy_deps())
    assert outcome["result"] == "EXECUTED" and count(conn, "approvals") == 0


def test_a_waiting_approval_is_notified_in_its_transaction(conn, trigger, redis_conn):
    from functools import partial

    from app.queues.dispatch import RqDispatcher
    from app.services import notifications as notification_service
    notification_service.create_endpoint(conn, {"kind": "webhook", "url": "http://127.0.0.1:9/hook",
                                                "events": ["approval_waiting"]}, None)
    buy_workflow(conn, trigger, require_approval=True)
    deps = buy_deps()
    deps.on_event = partial(notification_service.emit, conn, dispatcher=RqDispatcher(redis_conn, 15))
    _, approval = pending(conn, trigger, deps=deps)
    [delivery] = conn.execute("SELECT event, payload FROM notification_deliveries").fetchall()
    assert delivery["event"] == "approval_waiting"
    assert str(approval["id"]) in str(delivery["payload"])

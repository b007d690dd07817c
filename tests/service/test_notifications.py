"""Notifications end to end on real PostgreSQL and Redis, delivered by a real RQ worker to local HTTP servers."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from decimal import Decimal
from functools import partial

import pytest
from rq import Queue, SimpleWorker

from app import bootstrap
from app.config import load_config
from app.core.notifications import DELIVERY_HEADER, SIGNATURE_HEADER, Event, EventKind, verify_signature
from app.queues import NOTIFY_QUEUE
from app.queues.dispatch import RqDispatcher, enqueue_due_retries
from app.services import notifications as notification_service
from app.services.buy_engine import evaluate_prediction
from app.services.maintenance import run_maintenance
from app.services.sell_engine import check_position
from app.store.postgres import PostgresStore
from tests import factories
from tests.factories import ENTRY_PRICE, MovingPrice
from tests.fakes.webhook_server import WebhookServer

RETRY_INTERVALS = "1,1,1"


@pytest.fixture
def job_env(monkeypatch, database_url, redis_url):
    """The environment the delivery jobs read their configuration from (this run's database, quick retries)."""
    def configure(**settings: str):
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "NOTIFY_RETRY_INTERVALS": RETRY_INTERVALS,
               **settings}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        _forget_process()
        return load_config(dict(os.environ))
    yield configure
    _forget_process()


def _forget_process() -> None:
    stale = bootstrap._processes.pop((os.getpid(), None), None)
    if stale is not None:
        stale.close()


@pytest.fixture
def server():
    servers: list[WebhookServer] = []

    def start(**options) -> WebhookServer:
        servers.append(WebhookServer(**options).start())
        return servers[-1]
    yield start
    for running in servers:
        running.stop()


def run_deliveries(redis_conn, until, timeout: float = 30.0) -> None:
    """Run the notifications queue with a real RQ worker (and move due retries back) until `until()` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "deliveries did not finish in time"
        SimpleWorker([Queue(NOTIFY_QUEUE, connection=redis_conn)], connection=redis_conn).work(
            burst=True, logging_level="WARNING")
        enqueue_due_retries(redis_conn)
        time.sleep(0.2)


def deliveries(conn) -> list[dict]:
    return conn.execute("SELECT * FROM notification_deliveries ORDER BY id").fetchall()


def all_done(conn):
    return lambda: all(row["status"] != "PENDING" for row in deliveries(conn)) and deliveries(conn)


def add_webhook(client, url: str, events: list[str], **extra) -> dict:
    response = client.post("/api/notifications/endpoints", json={"kind": "webhook", "url": url, "events": events,
                                                                 **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def buy_and_sell(conn, dispatcher, market: MovingPrice) -> dict:
    """A paper buy then a take-profit sell, both with notifications wired to the real queue."""
    model = factories.add_model(conn)
    factories.add_mint(conn)
    factories.buy_workflow(conn, model)
    buy_deps = factories.buy_deps()
    buy_deps.on_event = partial(notification_service.emit, conn, dispatcher=dispatcher)
    evaluate_prediction(PostgresStore(conn), factories.store_prediction(conn, model, 0.9), buy_deps)
    position = conn.execute("SELECT * FROM positions WHERE status = 'OPEN'").fetchone()
    factories.sell_workflow(conn, [{"type": "take_profit", "percent": 20}])
    market.price = ENTRY_PRICE * Decimal("1.3")
    sell_deps = factories.sell_deps(market)
    sell_deps.on_event = partial(notification_service.emit, conn, dispatcher=dispatcher)
    assert check_position(PostgresStore(conn), position["id"], sell_deps)["result"] == "sold"
    return position


def test_failing_twice_then_succeeding_endpoint_gets_each_event_once_signed(conn, client, wallet, redis_conn,
                                                                            job_env, server):
    config = job_env()
    hook = server(fail_first=2)
    endpoint = add_webhook(client, hook.url + "/hook", ["buy_executed", "sell_executed"])
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    buy_and_sell(conn, dispatcher, MovingPrice())

    run_deliveries(redis_conn, all_done(conn))

    assert len(hook.received) == 6  # two refusals and one success per event
    delivered = hook.delivered()
    assert sorted(r.json()["event"] for r in delivered) == ["buy_executed", "sell_executed"]
    assert len({r.json()["id"] for r in delivered}) == 2
    for request in hook.received:
        assert verify_signature(endpoint["signing_secret"], request.headers[SIGNATURE_HEADER], request.body,
                                int(time.time()))
    sell = next(r.json() for r in delivered if r.json()["event"] == "sell_executed")
    assert (sell["data"]["rule"], sell["data"]["rule_key"]) == ("take_profit", "take_profit:20:-")
    listed = client.get("/api/notifications?status=DELIVERED").get_json()
    assert listed["total"] == 2
    assert {(d["attempts"], d["status"]) for d in listed["items"]} == {(3, "DELIVERED")}
    assert all("HTTP 500" in d["last_error"] for d in listed["items"])

    for row in deliveries(conn):  # a duplicated or repeated job sends nothing more
        dispatcher.deliver_notification(row["id"])
    run_deliveries(redis_conn, lambda: Queue(NOTIFY_QUEUE, connection=redis_conn).count == 0)
    assert len(hook.received) == 6


def test_a_slow_endpoint_does_not_delay_a_sell(conn, client, wallet, redis_conn, job_env, server):
    config = job_env(NOTIFY_TIMEOUT_SECONDS="15")
    hook = server(delay_seconds=10)
    add_webhook(client, hook.url, ["sell_executed"])
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    started = time.monotonic()
    buy_and_sell(conn, dispatcher, MovingPrice())
    assert time.monotonic() - started < 2
    assert [row["status"] for row in deliveries(conn)] == ["PENDING"]
    assert hook.received == []

    run_deliveries(redis_conn, all_done(conn))
    assert [row["status"] for row in deliveries(conn)] == ["DELIVERED"]
    assert [r.json()["event"] for r in hook.delivered()] == ["sell_executed"]


def test_a_repeated_delivery_carries_the_same_delivery_id_so_the_receiver_can_drop_it(conn, client, redis_conn,
                                                                                     job_env, server):
    """The receiver answers after the sender's timeout (as if the worker died after the POST): it gets the
    event again, and both copies name the same outbox row, signed; a refused attempt repeats it too."""
    config = job_env(NOTIFY_TIMEOUT_SECONDS="1")
    slow, failing = server(delay_seconds=2.5, slow_first=1), server(fail_first=2)
    endpoints = [add_webhook(client, hook.url, ["trading_halted"]) for hook in (slow, failing)]
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    notification_service.emit(conn, Event(EventKind.TRADING_HALTED, "halt:7", {"reason": "test"}), dispatcher)
    run_deliveries(redis_conn, lambda: all_done(conn)() and len(slow.received) == 2)

    rows = {row["endpoint_id"]: row for row in deliveries(conn)}
    for hook, endpoint, attempts in ((slow, endpoints[0], 2), (failing, endpoints[1], 3)):
        row = rows[endpoint["id"]]
        assert (row["status"], row["attempts"], len(hook.received)) == ("DELIVERED", attempts, attempts)
        assert {r.headers[DELIVERY_HEADER] for r in hook.received} == {str(row["id"])}
        assert {(r.json()["delivery_id"], r.json()["id"]) for r in hook.received} == {(row["id"], "halt:7")}
        assert all(verify_signature(endpoint["signing_secret"], r.headers[SIGNATURE_HEADER], r.body, int(time.time()))
                   for r in hook.received)
    assert [r.status for r in slow.received] == [200, 200]  # both arrived: the receiver must dedupe


def test_a_delivery_waits_for_its_transaction_and_a_rolled_back_event_is_never_sent(conn, client, redis_conn,
                                                                                   job_env, server):
    config = job_env()
    hook = server()
    add_webhook(client, hook.url, ["trading_halted"])
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    with pytest.raises(RuntimeError), conn.transaction():
        notification_service.emit(conn, Event(EventKind.TRADING_HALTED, "halt:1", {"reason": "test"}), dispatcher)
        raise RuntimeError("the halt is rolled back")
    run_deliveries(redis_conn, lambda: Queue(NOTIFY_QUEUE, connection=redis_conn).count == 0)
    assert hook.received == [] and deliveries(conn) == []

    notification_service.emit(conn, Event(EventKind.TRADING_HALTED, "halt:2", {"reason": "test"}), dispatcher)
    notification_service.emit(conn, Event(EventKind.TRADING_HALTED, "halt:2", {"reason": "again"}), dispatcher)
    run_deliveries(redis_conn, all_done(conn))
    assert [r.json()["data"] for r in hook.delivered()] == [{"reason": "test"}]


def test_scoped_endpoints_hear_only_their_workflow_and_chosen_events(conn, client, wallet, redis_conn, job_env,
                                                                     server):
    config = job_env()
    hook, other = server(), server()
    add_webhook(client, hook.url, ["sell_executed"])
    unrelated = factories.create_workflow(conn, factories.sell_body(name="other"), active=False)
    add_webhook(client, other.url, ["buy_executed", "sell_executed"], workflow_id=str(unrelated["id"]))
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    buy_and_sell(conn, dispatcher, MovingPrice())
    run_deliveries(redis_conn, all_done(conn))
    assert [r.json()["event"] for r in hook.delivered()] == ["sell_executed"]
    assert other.received == []


def test_the_last_failed_attempt_is_failed_and_listed(conn, client, redis_conn, job_env, server):
    config = job_env(NOTIFY_RETRY_INTERVALS="1")
    hook = server(fail_first=5)
    add_webhook(client, hook.url, ["execution_error"])
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    notification_service.emit(conn, Event(EventKind.EXECUTION_ERROR, "err:1", {"error": "boom"}), dispatcher)
    run_deliveries(redis_conn, all_done(conn))
    assert len(hook.received) == 2
    failed = client.get("/api/notifications?status=FAILED&event=execution_error").get_json()["items"]
    assert [(d["status"], d["attempts"]) for d in failed] == [("FAILED", 2)]
    assert client.get("/api/notifications?status=DELIVERED").get_json()["total"] == 0


def test_telegram_messages_go_through_the_same_path(conn, client, redis_conn, job_env, server):
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    telegram = server()
    config = job_env(WALLET_ENCRYPTION_KEY=key, TELEGRAM_API_BASE=telegram.url)
    client.application.extensions["trading_config"] = replace(
        client.application.extensions["trading_config"], wallet_encryption_key=key)
    token = "123456:ABCdefGhIJKlmnOPQrstUVwxyz_0123456789"
    response = client.post("/api/notifications/endpoints", json={
        "kind": "telegram", "bot_token": token, "chat_id": "-100123", "events": ["sell_executed"]})
    assert response.status_code == 201 and token not in response.get_data(as_text=True)
    stored = conn.execute("SELECT bot_token_enc FROM notification_endpoints").fetchone()["bot_token_enc"]
    assert token not in stored
    assert token not in str(client.get("/api/audit").get_json())
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    notification_service.emit(conn, Event(EventKind.SELL_EXECUTED, "sell:x", {
        "mint": factories.MINT, "rule": "take_profit", "net_sol": "0.06"}), dispatcher)
    run_deliveries(redis_conn, all_done(conn))
    [message] = telegram.delivered()
    assert message.path == f"/bot{token}/sendMessage"
    assert message.json()["chat_id"] == "-100123"
    assert "Sell executed" in message.json()["text"] and "take_profit" in message.json()["text"]


def test_the_sweep_requeues_a_delivery_whose_job_vanished(conn, client, redis_conn, job_env, server):
    config = job_env()
    hook = server()
    add_webhook(client, hook.url, ["daily_summary"])
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    notification_service.emit(conn, Event(EventKind.DAILY_SUMMARY, "day:1", {}), dispatcher)
    redis_conn.flushdb()  # the job is lost with Redis' data
    assert notification_service.sweep_deliveries(conn, dispatcher) == 0  # too recent to call lost
    conn.execute("UPDATE notification_deliveries SET created_at = now() - interval '2 minutes'")
    assert notification_service.sweep_deliveries(conn, dispatcher) == 1
    assert notification_service.sweep_deliveries(conn, dispatcher) == 0  # its job waits now
    run_deliveries(redis_conn, all_done(conn))
    assert len(hook.delivered()) == 1


def test_yesterdays_daily_summary_is_sent_once_by_maintenance(conn, client, wallet, redis_conn, job_env, server):
    config = job_env()
    hook = server()
    add_webhook(client, hook.url, ["daily_summary"])
    dispatcher = RqDispatcher(redis_conn, 15, config.notify_retry_intervals)
    buy_and_sell(conn, dispatcher, MovingPrice())
    for table in ("trade_logs", "workflow_executions"):
        conn.execute(f"UPDATE {table} SET created_at = created_at - interval '1 day'")
    assert run_maintenance(conn, dispatcher, 20, 120)["daily_summaries"] == 1
    assert run_maintenance(conn, dispatcher, 20, 120)["daily_summaries"] == 0
    run_deliveries(redis_conn, all_done(conn))
    [summary] = [r.json() for r in hook.delivered()]
    assert summary["event"] == "daily_summary"
    data = summary["data"]
    assert (data["buys"], data["sells"], data["sol_spent"], data["errors"]) == ("1", "1", "0.050000000", "0")
    assert Decimal(data["realized_pnl_sol"]) > 0

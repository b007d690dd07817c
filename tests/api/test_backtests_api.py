"""POST /api/backtests queues a run an RQ worker performs; GET shows its progress and result."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job

from app.queues import BACKTEST_QUEUE
from app.services import backtests as backtest_service
from tests import factories
from tests.factories import BACKTEST_T0, seed_backtest_history

FROM, TO = BACKTEST_T0.isoformat(), (BACKTEST_T0 + timedelta(hours=1)).isoformat()


@pytest.fixture
def model_id(conn):
    model = factories.add_model(conn)
    seed_backtest_history(conn, model)
    return model


def body(model_id: int, **overrides) -> dict:
    buy = {k: v for k, v in factories.buy_body(model_id, min_probability=0.5).items() if k != "wallet_alias"}
    sell = {"chain": {"rules": factories.SELL_RULES}}
    return {"buy": buy, "sell": sell, "from": FROM, "to": TO, "start_balance_sol": "10", "prices": "metrics",
            **overrides}


def test_a_backtest_is_queued_run_by_a_worker_and_reported(client, conn, redis_conn, model_id, job_env):
    response = client.post("/api/backtests", json=body(model_id))
    assert response.status_code == 202, response.get_json()
    queued = response.get_json()
    assert (queued["status"], queued["progress"], queued["summary"]) == ("QUEUED", 0.0, None)
    SimpleWorker([Queue(BACKTEST_QUEUE, connection=redis_conn)], connection=redis_conn).work(
        burst=True, logging_level="WARNING")
    done = client.get(f"/api/backtests/{queued['id']}").get_json()
    assert (done["status"], done["progress"], done["error"]) == ("DONE", 100.0, None)
    assert done["summary"]["trades"] == 2 and len(done["trades"]) == 2 and len(done["equity"]) == 2
    assert {trade["close_reason"] for trade in done["trades"]} == {"take_profit", "trailing_stop"}


def test_a_stored_workflow_is_used_by_id(client, conn, wallet, model_id, redis_conn):
    buy = factories.buy_workflow(conn, model_id, min_probability=0.5)
    sell = factories.sell_workflow(conn, factories.SELL_RULES)
    response = client.post("/api/backtests", json=body(model_id, buy=str(buy["id"]), sell=str(sell["id"])))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["request"]["buy_workflow_id"] == str(buy["id"])


@pytest.mark.parametrize(("change", "status", "errors"), [
    ({"buy": "00000000-0000-0000-0000-000000000007"}, 404, {"buy": ["Unknown workflow."]}),
    ({"from": TO, "to": FROM}, 422, {"to": ["Must be after from."]}),
    ({"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}, 422,
     {"from": ["No predictions stored in the period."]}),
    ({"prices": "recorded"}, 422, {"prices": ["No recorded prices in the period."]}),
    ({"buy": {"chain": {"trigger": {"type": "prediction_alert", "model_id": 1}}, "buy_amount_mode": "fixed"}}, 422,
     None),
])
def test_bad_requests_are_refused_naming_the_field(client, conn, model_id, redis_conn, change, status, errors):
    response = client.post("/api/backtests", json=body(model_id, **change))
    assert response.status_code == status, response.get_json()
    named = response.get_json()["errors"]["json"]
    if errors is None:
        assert list(named) == ["buy"] and set(named["buy"]) >= {"chain"}
    else:
        assert named == errors
    assert conn.execute("SELECT count(*) AS n FROM backtests").fetchone()["n"] == 0
    assert redis_conn.llen(f"rq:queue:{BACKTEST_QUEUE}") == 0


def test_an_unknown_backtest_is_404(client):
    assert client.get("/api/backtests/00000000-0000-0000-0000-000000000001").status_code == 404


def test_a_month_long_backtest_gets_a_job_timeout_for_its_length(client, conn, model_id, redis_conn):
    start = BACKTEST_T0 - timedelta(days=30, hours=23)  # 31 days ending after the seeded hour
    response = client.post("/api/backtests", json=body(model_id, **{"from": start.isoformat(), "to": TO}))
    assert response.status_code == 202, response.get_json()
    job = Job.fetch(f"backtest-{response.get_json()['id']}", connection=redis_conn)
    assert job.timeout == backtest_service.job_timeout_seconds(timedelta(days=31)) >= 31 * 600
    assert backtest_service.job_timeout_seconds(timedelta(hours=1)) == 3600

"""Predictions are never left PENDING: a dead evaluation is requeued, a stale one EXPIRED (real PostgreSQL/Redis)."""

from __future__ import annotations

import pytest
from rq.job import JobStatus

from app.queues import BUY_QUEUE, queue
from app.queues.dispatch import RqDispatcher
from app.services.buy_engine import evaluate_prediction
from app.services.maintenance import sweep_predictions
from app.store.postgres import PostgresStore
from tests.assertions import count
from tests.factories import OTHER_MINT, add_mint, buy_deps, buy_workflow, store_prediction

LEASE, MAX_AGE = 20, 120


@pytest.fixture
def trigger(conn, wallet, make_model):
    add_mint(conn)
    model = make_model("trigger")
    buy_workflow(conn, model, cooldown_seconds=0)
    return model


def received_ago(conn, prediction_id, seconds: float, claimed_ago: float | None = None, job_id: str | None = None):
    conn.execute("UPDATE predictions SET received_at = now() - make_interval(secs => %s), job_id = %s, "
                 "claimed_at = CASE WHEN %s::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => %s) END "
                 "WHERE id = %s", (seconds, job_id, claimed_ago, claimed_ago, prediction_id))


def status(conn, prediction_id) -> dict:
    return conn.execute("SELECT status, job_id, outcomes FROM predictions WHERE id = %s", (prediction_id,)).fetchone()


def test_a_prediction_whose_worker_died_is_requeued_and_buys_once(conn, redis_conn, trigger):
    dispatcher = RqDispatcher(redis_conn, 15)
    prediction_id = store_prediction(conn, trigger, 0.9)
    job_id = dispatcher.evaluate_predictions([prediction_id])
    queue(redis_conn, BUY_QUEUE).fetch_job(job_id).set_status(JobStatus.STARTED)  # a worker took it, then died
    received_ago(conn, prediction_id, 25, claimed_ago=LEASE + 1, job_id=job_id)

    counts = sweep_predictions(conn, dispatcher, LEASE, MAX_AGE)

    assert counts == {"expired_predictions": 0, "requeued_predictions": 1}
    new_job = status(conn, prediction_id)["job_id"]
    assert new_job != job_id and dispatcher.job_waiting(new_job)
    assert [o["result"] for o in evaluate_prediction(PostgresStore(conn), prediction_id, buy_deps())] == ["EXECUTED"]
    assert sweep_predictions(conn, dispatcher, LEASE, MAX_AGE)["requeued_predictions"] == 0
    assert count(conn, "positions") == 1


def test_a_prediction_still_waiting_in_the_queue_or_held_is_left_alone(conn, redis_conn, trigger):
    dispatcher = RqDispatcher(redis_conn, 15)
    waiting = store_prediction(conn, trigger, 0.9)
    received_ago(conn, waiting, 60, job_id=dispatcher.evaluate_predictions([waiting]))
    held = store_prediction(conn, trigger, 0.9, mint=OTHER_MINT)
    received_ago(conn, held, 60, claimed_ago=5, job_id="buy-gone")
    assert sweep_predictions(conn, dispatcher, LEASE, MAX_AGE) == {"expired_predictions": 0,
                                                                   "requeued_predictions": 0}


def test_a_prediction_too_old_to_act_on_is_expired_with_its_age(conn, redis_conn, trigger):
    dispatcher = RqDispatcher(redis_conn, 15)
    prediction_id = store_prediction(conn, trigger, 0.9)
    received_ago(conn, prediction_id, 700, job_id="buy-gone")
    assert sweep_predictions(conn, dispatcher, LEASE, MAX_AGE)["expired_predictions"] == 1
    row = status(conn, prediction_id)
    assert row["status"] == "EXPIRED" and "received 700 s ago" in row["outcomes"][0]["reason"]
    assert evaluate_prediction(PostgresStore(conn),
                               prediction_id, buy_deps()) == row["outcomes"]  # a late job changes nothing


def test_evaluating_a_prediction_older_than_the_limit_expires_it(conn, trigger):
    prediction_id = store_prediction(conn, trigger, 0.9)
    received_ago(conn, prediction_id, 300)
    outcomes = evaluate_prediction(PostgresStore(conn), prediction_id, buy_deps(max_age_seconds=MAX_AGE))
    assert outcomes[0]["result"] == "expired" and "300 s ago" in outcomes[0]["reason"]
    assert status(conn, prediction_id)["status"] == "EXPIRED"
    assert count(conn, "positions") == 0


def test_a_second_evaluator_does_not_evaluate_a_held_prediction(conn, trigger):
    prediction_id = store_prediction(conn, trigger, 0.9)
    received_ago(conn, prediction_id, 1, claimed_ago=1)
    assert evaluate_prediction(PostgresStore(conn), prediction_id, buy_deps()) == []
    assert status(conn, prediction_id)["status"] == "PENDING"

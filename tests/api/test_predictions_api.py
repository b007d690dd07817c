"""POST/GET /api/predictions against real PostgreSQL and Redis (jobs are enqueued, not run, here)."""

from __future__ import annotations

import uuid

import pytest
from rq import Queue

from tests.assertions import count
from tests.factories import MINT, prediction_body


@pytest.fixture
def model(make_model):
    return make_model("trigger")


def buy_queue(redis_conn) -> Queue:
    return Queue("buy", connection=redis_conn)


def test_single_prediction_is_stored_and_one_job_enqueued(client, conn, redis_conn, model):
    response = client.post("/api/predictions", json=prediction_body(model, id="alert-1", tag="pump"))
    assert response.status_code == 202
    body = response.get_json()
    assert body["client_id"] == "alert-1" and body["duplicate"] is False and body["status"] == "PENDING"
    job = buy_queue(redis_conn).fetch_job(body["job_id"])
    assert job is not None and job.args == ([body["id"]],)
    stored = conn.execute("SELECT * FROM predictions").fetchone()
    assert (str(stored["id"]), stored["job_id"], stored["tag"]) == (body["id"], body["job_id"], "pump")


def test_same_client_id_twice_stores_and_enqueues_once(client, conn, redis_conn, model):
    first = client.post("/api/predictions", json=prediction_body(model, id="alert-1")).get_json()
    second = client.post("/api/predictions", json=prediction_body(model, id="alert-1")).get_json()
    assert second["duplicate"] is True and second["id"] == first["id"] and second["job_id"] == first["job_id"]
    assert count(conn, "predictions") == 1 and len(buy_queue(redis_conn)) == 1


def test_reused_client_id_for_another_prediction_is_409(client, conn, model):
    client.post("/api/predictions", json=prediction_body(model, id="alert-1"))
    response = client.post("/api/predictions", json=prediction_body(model, id="alert-1", probability=0.5))
    assert response.status_code == 409 and "alert-1" in response.get_json()["message"]
    assert count(conn, "predictions") == 1


def test_batch_is_one_job_for_the_new_predictions(client, conn, redis_conn, model):
    client.post("/api/predictions", json=prediction_body(model, id="a"))
    batch = [prediction_body(model, id="a"), prediction_body(model, id="b"), prediction_body(model)]
    response = client.post("/api/predictions", json=batch)
    assert response.status_code == 202
    body = response.get_json()
    assert [item["duplicate"] for item in body] == [True, False, False]
    job = buy_queue(redis_conn).fetch_job(body[1]["job_id"])
    assert job.args == ([body[1]["id"], body[2]["id"]],)
    assert count(conn, "predictions") == 3 and len(buy_queue(redis_conn)) == 2


@pytest.mark.parametrize("overrides, field", [
    ({"model_id": 999}, "model_id"),
    ({"probability": 1.5}, "probability"),
    ({"probability": -0.1}, "probability"),
    ({"probability": "high"}, "probability"),
    ({"mint": "not-a-mint"}, "mint"),
    ({"mint": "1" * 44}, "mint"),
    ({"timestamp": None}, "timestamp"),
    ({"timestamp": "2026-11-21T10:00:00"}, "timestamp"),
    ({"model_id": "7"}, "model_id"),
    ({"extra": 1}, "extra"),
])
def test_malformed_prediction_is_422_and_nothing_stored_or_enqueued(client, conn, redis_conn, model, overrides,
                                                                      field):
    body = prediction_body(model, **overrides)
    if overrides.get("timestamp", "") is None:
        del body["timestamp"]
    response = client.post("/api/predictions", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert count(conn, "predictions") == 0 and len(buy_queue(redis_conn)) == 0


def test_one_bad_item_refuses_the_whole_batch(client, conn, redis_conn, model):
    response = client.post("/api/predictions", json=[prediction_body(model), prediction_body(model, model_id=999)])
    assert response.status_code == 422
    assert "model_id" in response.get_json()["errors"]["json"]["1"]
    assert count(conn, "predictions") == 0 and len(buy_queue(redis_conn)) == 0


@pytest.mark.parametrize("body", ["text", [], 5])
def test_body_must_be_a_prediction_or_a_list(client, body, model):
    assert client.post("/api/predictions", json=body).status_code == 422


def test_get_shows_prediction_and_its_executions(client, conn, model):
    created = client.post("/api/predictions", json=prediction_body(model, id="x")).get_json()
    body = client.get(f"/api/predictions/{created['id']}").get_json()
    assert (body["id"], body["client_id"], body["mint"], body["status"], body["executions"]) == (
        created["id"], "x", MINT, "PENDING", [])
    assert body["timestamp"].startswith("2026-11-21T10:00:00")
    assert client.get(f"/api/predictions/{uuid.uuid4()}").status_code == 404

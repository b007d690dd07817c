"""Prediction intake: store (idempotently by client id), enqueue one evaluation job, report what it caused."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from psycopg import Connection

from app.errors import Conflict, Invalid, NotFound
from app.repos import executions as execution_repo
from app.repos import models as model_repo
from app.repos import predictions as prediction_repo

log = logging.getLogger(__name__)

Enqueue = Callable[[list[UUID]], str]
_SAME_PAYLOAD = ("mint", "model_id", "probability", "predicted_at")


def submit_predictions(conn: Connection, items: list[dict[str, Any]], enqueue: Enqueue) -> list[dict[str, Any]]:
    """Store predictions (all or none) and enqueue one job evaluating the new ones; duplicates are reported."""
    _require_models(conn, items)
    with conn.transaction():
        results = [_store(conn, index, item, len(items) > 1) for index, item in enumerate(items)]
    new_ids = [r["id"] for r in results if not r["duplicate"]]
    if new_ids:
        job_id = _enqueue(enqueue, new_ids)
        if job_id:
            prediction_repo.set_job(conn, new_ids, job_id)
            results = [{**r, "job_id": job_id} if not r["duplicate"] else r for r in results]
    return results


def _require_models(conn: Connection, items: list[dict[str, Any]]) -> None:
    known = model_repo.existing_ids(conn, {item["model_id"] for item in items})
    problems = {((i, "model_id") if len(items) > 1 else ("model_id",)): [f"Unknown model id {item['model_id']}."]
                for i, item in enumerate(items) if item["model_id"] not in known}
    if problems:
        raise Invalid.from_paths(problems)


def _store(conn: Connection, index: int, item: dict[str, Any], batch: bool) -> dict[str, Any]:
    row = prediction_repo.insert_new(conn, item)
    if row is not None:
        return {**row, "duplicate": False}
    existing = prediction_repo.by_client_id(conn, item["client_id"])
    if any(existing[key] != item[key] for key in _SAME_PAYLOAD):
        where = f"[{index}].id" if batch else "id"
        raise Conflict(f"{where}: prediction id {item['client_id']!r} was already used for a different prediction.")
    return {**existing, "duplicate": True}


def _enqueue(enqueue: Enqueue, prediction_ids: list[UUID]) -> str | None:
    try:
        return enqueue(prediction_ids)
    except Exception:
        log.exception("could not enqueue evaluation of %d prediction(s); the pending sweep will retry",
                      len(prediction_ids))
        return None


def get_prediction(conn: Connection, prediction_id: UUID) -> dict[str, Any]:
    """A prediction with the executions it caused."""
    prediction = prediction_repo.get(conn, prediction_id)
    if prediction is None:
        raise NotFound(f"Prediction {prediction_id} not found.")
    return {**prediction, "executions": execution_repo.for_prediction(conn, prediction_id)}

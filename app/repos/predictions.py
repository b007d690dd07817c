"""SQL for predictions (incoming model alerts)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

from app.core.states import PredictionStatus

_COLUMNS = "id, client_id, mint, model_id, probability, prediction, tag, predicted_at, received_at, job_id, " \
           "status, evaluated_at, outcomes"


def insert_new(conn: Connection, item: dict[str, Any]) -> dict[str, Any] | None:
    """Insert a prediction; None when its client id was already stored."""
    return conn.execute(
        f"""INSERT INTO predictions (client_id, mint, model_id, probability, prediction, tag, predicted_at)
            VALUES (%(client_id)s, %(mint)s, %(model_id)s, %(probability)s, %(prediction)s, %(tag)s,
                    %(predicted_at)s)
            ON CONFLICT (client_id) DO NOTHING RETURNING {_COLUMNS}""",
        {"client_id": None, "prediction": None, "tag": None, **item},
    ).fetchone()


def by_client_id(conn: Connection, client_id: str) -> dict[str, Any] | None:
    """The prediction stored under a client idempotency key."""
    return conn.execute(f"SELECT {_COLUMNS} FROM predictions WHERE client_id = %s", (client_id,)).fetchone()


def get(conn: Connection, prediction_id: UUID) -> dict[str, Any] | None:
    """One prediction."""
    return conn.execute(f"SELECT {_COLUMNS} FROM predictions WHERE id = %s", (prediction_id,)).fetchone()


def set_job(conn: Connection, prediction_ids: list[UUID], job_id: str) -> None:
    """Record which RQ job evaluates these predictions."""
    conn.execute("UPDATE predictions SET job_id = %s WHERE id = ANY(%s)", (job_id, prediction_ids))


def mark_evaluated(conn: Connection, prediction_id: UUID, outcomes: list[dict[str, Any]], failed: bool = False) -> None:
    """Store the evaluation's outcome per workflow."""
    conn.execute(
        "UPDATE predictions SET status = %s, evaluated_at = now(), outcomes = %s WHERE id = %s",
        (PredictionStatus.FAILED if failed else PredictionStatus.EVALUATED, Jsonb(outcomes), prediction_id),
    )


def pending_older_than(conn: Connection, seconds: float, limit: int = 1000) -> list[dict[str, Any]]:
    """Predictions still PENDING after `seconds` (id and job_id), oldest first."""
    return conn.execute(
        """SELECT id, job_id FROM predictions WHERE status = 'PENDING'
           AND received_at < now() - make_interval(secs => %s) ORDER BY received_at LIMIT %s""",
        (seconds, limit)).fetchall()

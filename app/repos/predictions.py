"""SQL for predictions (incoming model alerts)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

from app.core.states import PredictionStatus

_COLUMNS = "id, client_id, mint, model_id, probability, prediction, tag, predicted_at, received_at, job_id, " \
           "status, evaluated_at, outcomes, attempts"


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


def claim(conn: Connection, prediction_id: UUID, lease_seconds: float) -> dict[str, Any] | None:
    """Take a PENDING prediction for evaluation for `lease_seconds` (None: final, or another evaluator holds it).

    The row comes back with `age_seconds`, how long ago it was received.
    """
    return conn.execute(
        f"""UPDATE predictions SET claimed_at = now(), attempts = attempts + 1
            WHERE id = %s AND status = 'PENDING'
              AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => %s))
            RETURNING {_COLUMNS}, extract(epoch FROM now() - received_at)::float8 AS age_seconds""",
        (prediction_id, lease_seconds)).fetchone()


def renew_claim(conn: Connection, prediction_id: UUID) -> None:
    """Extend the evaluator's lease on a prediction it claimed."""
    conn.execute("UPDATE predictions SET claimed_at = now() WHERE id = %s AND status = 'PENDING'", (prediction_id,))


def mark_evaluated(conn: Connection, prediction_id: UUID, outcomes: list[dict[str, Any]],
                   status: PredictionStatus = PredictionStatus.EVALUATED) -> None:
    """Store the evaluation's final status and outcome per workflow (once: only a PENDING prediction changes)."""
    conn.execute(
        "UPDATE predictions SET status = %s, evaluated_at = now(), outcomes = %s, claimed_at = NULL "
        "WHERE id = %s AND status = 'PENDING'",
        (status, Jsonb(outcomes), prediction_id),
    )


def lost(conn: Connection, lease_seconds: float, limit: int = 1000) -> list[dict[str, Any]]:
    """PENDING predictions received over a lease ago that no evaluator holds now (id, job_id), oldest first."""
    return conn.execute(
        """SELECT id, job_id FROM predictions WHERE status = 'PENDING'
             AND received_at < now() - make_interval(secs => %(lease)s)
             AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => %(lease)s))
           ORDER BY received_at LIMIT %(limit)s""",
        {"lease": lease_seconds, "limit": limit}).fetchall()


def expire_unclaimed(conn: Connection, max_age_seconds: float, lease_seconds: float) -> int:
    """Mark EXPIRED every PENDING prediction older than max_age that no evaluator holds; returns how many."""
    return conn.execute(
        """UPDATE predictions SET status = 'EXPIRED', evaluated_at = now(),
                  outcomes = jsonb_build_array(jsonb_build_object('result', 'expired', 'reason',
                      format('received %%s s ago, older than the %%s s limit (PREDICTION_MAX_AGE_SECONDS)',
                             round(extract(epoch FROM now() - received_at)), %(max_age)s::int)))
           WHERE status = 'PENDING' AND received_at < now() - make_interval(secs => %(max_age)s)
             AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => %(lease)s))""",
        {"max_age": max_age_seconds, "lease": lease_seconds}).rowcount

"""SQL for notification endpoints and their deliveries (the outbox)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

_LOCK_SPACE = 7007  # advisory lock space: a delivery's emitting transaction holds (7007, id) until it ends
_PUBLIC = "id, kind, url, chat_id, events, workflow_id, created_at"


def insert_endpoint(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Store an endpoint; returns its public columns."""
    return conn.execute(
        f"""INSERT INTO notification_endpoints (kind, url, chat_id, signing_secret, bot_token_enc, events, workflow_id)
            VALUES (%(kind)s, %(url)s, %(chat_id)s, %(signing_secret)s, %(bot_token_enc)s, %(events)s, %(workflow_id)s)
            RETURNING {_PUBLIC}""", values).fetchone()


def list_endpoints(conn: Connection) -> list[dict[str, Any]]:
    """Every endpoint's public columns, oldest first."""
    return conn.execute(f"SELECT {_PUBLIC} FROM notification_endpoints ORDER BY id").fetchall()


def delete_endpoint(conn: Connection, endpoint_id: int) -> bool:
    """Delete an endpoint (its deliveries stay, without it); False when there was none."""
    return conn.execute("DELETE FROM notification_endpoints WHERE id = %s", (endpoint_id,)).rowcount == 1


def record_event(conn: Connection, kind: str, key: str, workflow_id: UUID | None,
                 payload: dict[str, Any]) -> list[int]:
    """One PENDING delivery per subscribed endpoint (global, or scoped to the workflow); returns the new ids.

    An event already recorded for an endpoint (same key) is not recorded again. The new rows are locked for
    the caller's transaction, so a delivery job waits for it to end (see `wait_for_emitter`).
    """
    rows = conn.execute(
        """INSERT INTO notification_deliveries (endpoint_id, event, event_key, payload)
           SELECT id, %(kind)s, %(key)s, %(payload)s FROM notification_endpoints
            WHERE %(kind)s = ANY(events) AND (workflow_id IS NULL OR workflow_id = %(workflow_id)s)
           ON CONFLICT (endpoint_id, event_key) DO NOTHING
           RETURNING id, pg_advisory_xact_lock(%(space)s, (id %% 2147483647)::int)""",
        {"kind": kind, "key": key, "workflow_id": workflow_id, "payload": Jsonb(payload),
         "space": _LOCK_SPACE}).fetchall()
    return [row["id"] for row in rows]


def wait_for_emitter(conn: Connection, delivery_id: int) -> None:
    """Block (within lock_timeout) until the transaction that recorded the delivery has committed or rolled back."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, (%s %% 2147483647)::int)", (_LOCK_SPACE, delivery_id))


def lock_pending(conn: Connection, delivery_id: int) -> dict[str, Any] | None:
    """The PENDING delivery with its endpoint, locked; None if delivered, failed, absent or being sent."""
    return conn.execute(
        """SELECT d.id, d.event, d.event_key, d.payload, d.attempts, d.created_at, e.kind, e.url, e.chat_id,
                  e.signing_secret, e.bot_token_enc, e.id AS endpoint
             FROM notification_deliveries d LEFT JOIN notification_endpoints e ON e.id = d.endpoint_id
            WHERE d.id = %s AND d.status = 'PENDING' FOR UPDATE OF d SKIP LOCKED""", (delivery_id,)).fetchone()


def finish_attempt(conn: Connection, delivery_id: int, status: str, error: str | None) -> None:
    """Count one attempt and set the status (DELIVERED stamps delivered_at) and the last error."""
    conn.execute(
        """UPDATE notification_deliveries SET attempts = attempts + 1, status = %(status)s,
                  last_error = COALESCE(%(error)s, last_error), updated_at = now(),
                  delivered_at = CASE WHEN %(status)s = 'DELIVERED' THEN now() END
            WHERE id = %(id)s AND status = 'PENDING'""", {"id": delivery_id, "status": status, "error": error})


def stale_pending(conn: Connection, older_than_seconds: float, limit: int = 500) -> list[int]:
    """PENDING deliveries recorded longer ago than this (candidates for a lost job)."""
    rows = conn.execute(
        """SELECT id FROM notification_deliveries
            WHERE status = 'PENDING' AND created_at < now() - make_interval(secs => %s)
            ORDER BY created_at LIMIT %s""", (older_than_seconds, limit)).fetchall()
    return [row["id"] for row in rows]


def page(conn: Connection, status: str | None, event: str | None, page_number: int,
         page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Deliveries newest first matching the filters, one page of them, and how many match in all."""
    where = "(%(status)s::text IS NULL OR status = %(status)s) AND (%(event)s::text IS NULL OR event = %(event)s)"
    params = {"status": status, "event": event, "limit": page_size, "offset": (page_number - 1) * page_size}
    rows = conn.execute(
        f"""SELECT id, endpoint_id, event, event_key, payload, status, attempts, last_error, created_at,
                   updated_at, delivered_at FROM notification_deliveries WHERE {where}
             ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""", params).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM notification_deliveries WHERE {where}", params).fetchone()["n"]
    return rows, total


def awaits_event(conn: Connection, kind: str, key: str) -> bool:
    """True when a global endpoint subscribed to this kind has not recorded this event yet."""
    return conn.execute(
        """SELECT EXISTS (SELECT 1 FROM notification_endpoints e WHERE %(kind)s = ANY(e.events)
                   AND e.workflow_id IS NULL AND NOT EXISTS (SELECT 1 FROM notification_deliveries d
                        WHERE d.endpoint_id = e.id AND d.event_key = %(key)s)) AS waiting""",
        {"kind": kind, "key": key}).fetchone()["waiting"]


def yesterday(conn: Connection) -> date:
    """The UTC day before the database's today."""
    return conn.execute("SELECT ((now() AT TIME ZONE 'UTC')::date - 1) AS day").fetchone()["day"]


def day_totals(conn: Connection, day: date) -> dict[str, Any]:
    """One UTC day's trades and errors: buys, sells, SOL in and out, realized P&L, ERROR executions."""
    window = ("created_at >= %(day)s::timestamp AT TIME ZONE 'UTC'"
              " AND created_at < (%(day)s::timestamp + interval '1 day') AT TIME ZONE 'UTC'")
    return conn.execute(
        f"""SELECT count(*) FILTER (WHERE action = 'BUY') AS buys, count(*) FILTER (WHERE action = 'SELL') AS sells,
                   COALESCE(sum(sol_amount) FILTER (WHERE action = 'BUY'), 0) AS sol_spent,
                   COALESCE(sum(sol_amount) FILTER (WHERE action = 'SELL'), 0) AS sol_received,
                   COALESCE(sum(realized_pnl_sol), 0) AS realized_pnl_sol,
                   (SELECT count(*) FROM workflow_executions WHERE result = 'ERROR' AND {window}) AS errors
              FROM trade_logs WHERE {window}""", {"day": day}).fetchone()

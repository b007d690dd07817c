"""SQL for approvals: BUYs of require_approval workflows waiting for a human decision."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

_SELECT = """
SELECT a.*, tw.name AS workflow_name, w.alias AS wallet_alias
FROM approvals a
JOIN trading_workflows tw ON tw.id = a.workflow_id
JOIN wallets w ON w.id = tw.wallet_id
"""


def insert(conn: Connection, values: dict[str, Any]) -> dict[str, Any] | None:
    """Store a PENDING approval expiring ttl_seconds after `at` (None: now()); None if one exists already."""
    return conn.execute(
        """INSERT INTO approvals (prediction_id, workflow_id, mint, amount_sol, steps_log, expires_at, created_at)
           VALUES (%(prediction_id)s, %(workflow_id)s, %(mint)s, %(amount_sol)s, %(steps_log)s,
               COALESCE(%(at)s, now()) + make_interval(secs => %(ttl_seconds)s), COALESCE(%(at)s, now()))
           ON CONFLICT (prediction_id, workflow_id) DO NOTHING
           RETURNING id, expires_at""",
        {**values, "steps_log": Jsonb(values["steps_log"])},
    ).fetchone()


def get(conn: Connection, approval_id: UUID) -> dict[str, Any] | None:
    """One approval with its workflow's name and wallet alias."""
    return conn.execute(_SELECT + "WHERE a.id = %s", (approval_id,)).fetchone()


def list_approvals(conn: Connection, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Approvals, newest first, optionally of one status."""
    return conn.execute(
        _SELECT + """WHERE (%(status)s::text IS NULL OR a.status = %(status)s)
                     ORDER BY a.created_at DESC, a.id LIMIT %(limit)s""",
        {"status": status, "limit": limit},
    ).fetchall()


def decide(conn: Connection, approval_id: UUID, status: str, key_name: str | None) -> dict[str, Any] | None:
    """Move a PENDING, unexpired approval to `status`; None when it is not (only one concurrent caller wins)."""
    return conn.execute(
        """UPDATE approvals SET status = %(status)s, decided_by = %(by)s, decided_at = now()
           WHERE id = %(id)s AND status = 'PENDING' AND expires_at > now()
           RETURNING *""",
        {"id": approval_id, "status": status, "by": key_name},
    ).fetchone()


def set_outcome(conn: Connection, approval_id: UUID, outcome: dict[str, Any]) -> None:
    """Record what deciding the approval did (the buy's outcome, or the rejection's execution)."""
    conn.execute("UPDATE approvals SET outcome = %s WHERE id = %s", (Jsonb(outcome), approval_id))


def expire_due(conn: Connection) -> list[dict[str, Any]]:
    """Mark PENDING approvals past their expiry EXPIRED; returns them."""
    return conn.execute(
        """UPDATE approvals SET status = 'EXPIRED', decided_at = now()
           WHERE status = 'PENDING' AND expires_at <= now()
           RETURNING *"""
    ).fetchall()

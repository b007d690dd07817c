"""SQL for workflow_executions (the execution log)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

_SELECT = """
SELECT we.*, tw.name AS workflow_name, tw.type AS workflow_type, o.id AS order_id, o.state AS order_state
FROM workflow_executions we
JOIN trading_workflows tw ON tw.id = we.workflow_id
LEFT JOIN orders o ON o.execution_id = we.id
"""

_FILTER = """WHERE (%(workflow_id)s::uuid IS NULL OR we.workflow_id = %(workflow_id)s)
  AND (%(result)s::text IS NULL OR we.result = %(result)s)
  AND (%(mint)s::text IS NULL OR we.mint = %(mint)s)
  AND (%(type)s::text IS NULL OR tw.type = %(type)s)"""


def insert(conn: Connection, values: dict[str, Any]) -> UUID | None:
    """Log one execution; returns its id, or None when this prediction already has one for the workflow."""
    params = {
        "trade_log_id": None, "position_id": None, "error_message": None, "prediction_id": None, "at": None,
        "approval_id": None,
        **values,
        "trigger_data": Jsonb(values.get("trigger_data", {})), "steps_log": Jsonb(values.get("steps_log", [])),
    }
    row = conn.execute(
        """INSERT INTO workflow_executions (workflow_id, mint, trigger_data, steps_log, result,
               trade_log_id, position_id, error_message, prediction_id, approval_id, created_at)
           VALUES (%(workflow_id)s, %(mint)s, %(trigger_data)s, %(steps_log)s, %(result)s,
               %(trade_log_id)s, %(position_id)s, %(error_message)s, %(prediction_id)s, %(approval_id)s,
               COALESCE(%(at)s, now()))
           ON CONFLICT (prediction_id, workflow_id) WHERE prediction_id IS NOT NULL DO NOTHING
           RETURNING id""",
        params,
    ).fetchone()
    return None if row is None else row["id"]


def for_prediction(conn: Connection, prediction_id: UUID) -> list[dict[str, Any]]:
    """The executions a prediction caused."""
    return conn.execute(_SELECT + "WHERE we.prediction_id = %s ORDER BY we.created_at, we.id",
                        (prediction_id,)).fetchall()


def for_workflow(conn: Connection, workflow_id: UUID, limit: int) -> list[dict[str, Any]]:
    """A workflow's latest executions."""
    return conn.execute(
        _SELECT + "WHERE we.workflow_id = %s ORDER BY we.created_at DESC, we.id LIMIT %s", (workflow_id, limit)
    ).fetchall()


def recent(conn: Connection, limit: int, result: str | None = None) -> list[dict[str, Any]]:
    """Latest executions across all workflows, optionally of one result."""
    return conn.execute(
        _SELECT + """WHERE (%(result)s::text IS NULL OR we.result = %(result)s)
                     ORDER BY we.created_at DESC, we.id LIMIT %(limit)s""",
        {"result": result, "limit": limit},
    ).fetchall()


def page(conn: Connection, filters: dict[str, Any], page_number: int, page_size: int) -> tuple[list[dict], int]:
    """One page of executions matching the filters (workflow_id, result, mint, type) and the total count."""
    params = {"workflow_id": None, "result": None, "mint": None, "type": None, **filters}
    total = conn.execute(
        "SELECT count(*) AS n FROM workflow_executions we JOIN trading_workflows tw ON tw.id = we.workflow_id "
        + _FILTER, params,
    ).fetchone()["n"]
    rows = conn.execute(
        _SELECT + _FILTER + " ORDER BY we.created_at DESC, we.id LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": page_size, "offset": (page_number - 1) * page_size},
    ).fetchall()
    return rows, total

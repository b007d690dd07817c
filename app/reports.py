"""Read-only report queries (dashboards, stats)."""

from __future__ import annotations

from typing import Any

from psycopg import Connection


def workflow_stats(conn: Connection) -> dict[str, Any]:
    """Active BUY/SELL workflow counts and today's (UTC) executions by result."""
    active = conn.execute(
        """SELECT count(*) FILTER (WHERE type = 'BUY') AS buy, count(*) FILTER (WHERE type = 'SELL') AS sell
           FROM trading_workflows WHERE is_active"""
    ).fetchone()
    today = conn.execute(
        """SELECT result, count(*) AS n FROM workflow_executions
           WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
           GROUP BY result"""
    ).fetchall()
    by_result = {"EXECUTED": 0, "REJECTED": 0, "ERROR": 0}
    by_result.update({row["result"]: row["n"] for row in today})
    return {
        "active_buy": active["buy"],
        "active_sell": active["sell"],
        "executions_today": {**by_result, "total": sum(by_result.values())},
    }

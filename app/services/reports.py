"""Reports: read-only figures for dashboards (no transaction, no writes)."""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from app.core.states import ExecutionResult
from app.repos import reports as report_repo


def workflow_stats(conn: Connection) -> dict[str, Any]:
    """Active BUY/SELL workflow counts and today's (UTC) executions by result."""
    active = report_repo.active_workflow_counts(conn)
    by_result = {result.value: 0 for result in ExecutionResult}
    by_result.update(report_repo.executions_today_by_result(conn))
    return {
        "active_buy": active["buy"],
        "active_sell": active["sell"],
        "executions_today": {**by_result, "total": sum(by_result.values())},
    }

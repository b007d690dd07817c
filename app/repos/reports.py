"""Read-side SQL for reports: dashboards, stats and run summaries (never written through)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg import Connection


def active_workflow_counts(conn: Connection) -> dict[str, int]:
    """Active workflows by type: {'buy': n, 'sell': n}."""
    return conn.execute(
        """SELECT count(*) FILTER (WHERE type = 'BUY') AS buy, count(*) FILTER (WHERE type = 'SELL') AS sell
           FROM trading_workflows WHERE is_active"""
    ).fetchone()


def executions_today_by_result(conn: Connection) -> dict[str, int]:
    """Today's (UTC) workflow executions counted by result."""
    rows = conn.execute(
        """SELECT result, count(*) AS n FROM workflow_executions
           WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
           GROUP BY result"""
    ).fetchall()
    return {row["result"]: row["n"] for row in rows}


def trading_totals(conn: Connection) -> dict[str, Any]:
    """Predictions, buys, rejections, closed positions, wins and realised P&L over the whole database."""
    return conn.execute(
        """SELECT (SELECT count(*) FROM predictions) AS predictions,
                  (SELECT count(*) FROM trade_logs WHERE action = 'BUY') AS buys,
                  (SELECT count(*) FROM workflow_executions WHERE result = 'REJECTED') AS rejected,
                  count(*) AS closed, count(*) FILTER (WHERE realized_pnl_sol > 0) AS wins,
                  coalesce(sum(realized_pnl_sol), 0) AS pnl
           FROM positions WHERE status = 'CLOSED'"""
    ).fetchone()


def sells_by_rule(conn: Connection) -> dict[str, int]:
    """Sell trades counted by the rule (or reason) that made them."""
    rows = conn.execute("SELECT rule, count(*) AS n FROM trade_logs WHERE action = 'SELL' GROUP BY rule ORDER BY rule")
    return {row["rule"]: row["n"] for row in rows.fetchall()}


def wallet_balance(conn: Connection, alias: str) -> Decimal | None:
    """A wallet's paper balance by alias (None when there is no such wallet)."""
    row = conn.execute("SELECT virtual_sol_balance FROM wallets WHERE alias = %s", (alias,)).fetchone()
    return None if row is None else row["virtual_sol_balance"]

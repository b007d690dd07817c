"""Read-side SQL for reports: dashboards, stats and run summaries (never written through)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection, sql


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


_CLOSED_POSITIONS = """SELECT id, opened_at, closed_at, realized_pnl_sol FROM positions
    WHERE {owner} = %(owner)s AND status = 'CLOSED'
      AND (%(start)s::timestamptz IS NULL OR closed_at >= %(start)s)
      AND (%(end)s::timestamptz IS NULL OR closed_at < %(end)s)
    ORDER BY closed_at, seq"""
_OWNERS = {"wallet": "wallet_id", "workflow": "buy_workflow_id"}


def closed_positions(conn: Connection, owner: str, owner_id: UUID, start: datetime | None,
                     end: datetime | None) -> list[dict[str, Any]]:
    """Closed positions of a wallet (owner 'wallet') or bought by a BUY workflow (owner 'workflow'),
    closed_at in [start, end) (None: unbounded), oldest close first."""
    query = sql.SQL(_CLOSED_POSITIONS).format(owner=sql.Identifier(_OWNERS[owner]))
    return conn.execute(query, {"owner": owner_id, "start": start, "end": end}).fetchall()


def sell_exits(conn: Connection, position_ids: list[UUID]) -> list[dict[str, Any]]:
    """The SELL trades of these positions: position_id, rule and realised P&L, in order of time."""
    return conn.execute(
        """SELECT position_id, rule, coalesce(realized_pnl_sol, 0) AS realized_pnl_sol FROM trade_logs
           WHERE action = 'SELL' AND position_id = ANY(%s) ORDER BY created_at, seq""", (position_ids,)
    ).fetchall()


def wallet_id(conn: Connection, alias: str) -> UUID | None:
    """A wallet's id by alias (None when there is no such wallet)."""
    row = conn.execute("SELECT id FROM wallets WHERE alias = %s", (alias,)).fetchone()
    return None if row is None else row["id"]


def workflow_exists(conn: Connection, workflow_id: UUID) -> bool:
    """Whether a workflow (of either type) has this id."""
    return conn.execute("SELECT 1 FROM trading_workflows WHERE id = %s", (workflow_id,)).fetchone() is not None

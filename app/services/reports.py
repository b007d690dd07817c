"""Reports: read-only figures for dashboards (no transaction, no writes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

from app.core.performance import ClosedTrade, Exit, summarize
from app.core.states import ExecutionResult
from app.errors import NotFound
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


def wallet_performance(conn: Connection, alias: str, start: datetime | None,
                       end: datetime | None) -> dict[str, Any]:
    """The performance (app/core/performance.py) of a wallet's positions closed in [start, end); NotFound."""
    wallet_id = report_repo.wallet_id(conn, alias)
    if wallet_id is None:
        raise NotFound(f"Wallet {alias!r} not found.")
    trades = closed_trades(conn, "wallet", wallet_id, start, end)
    return {"wallet_alias": alias, "workflow_id": None, "from": start, "to": end, **asdict(summarize(trades))}


def workflow_performance(conn: Connection, workflow_id: UUID, start: datetime | None,
                         end: datetime | None) -> dict[str, Any]:
    """The performance of the positions a BUY workflow opened, closed in [start, end); NotFound."""
    if not report_repo.workflow_exists(conn, workflow_id):
        raise NotFound(f"Workflow {workflow_id} not found.")
    trades = closed_trades(conn, "workflow", workflow_id, start, end)
    return {"wallet_alias": None, "workflow_id": workflow_id, "from": start, "to": end,
            **asdict(summarize(trades))}


def closed_trades(conn: Connection, owner: str, owner_id: UUID, start: datetime | None,
                  end: datetime | None) -> list[ClosedTrade]:
    """The closed positions of a wallet or BUY workflow in [start, end) as the core's frozen trades."""
    rows = report_repo.closed_positions(conn, owner, owner_id, start, end)
    return trades_from(rows, report_repo.sell_exits(conn, [row["id"] for row in rows]))


def trades_from(closed: Sequence[Mapping[str, Any]], sells: Iterable[Mapping[str, Any]]) -> list[ClosedTrade]:
    """Closed positions (oldest close first) and their SELL trades (in time order) as the core's frozen trades."""
    exits: dict[UUID, list[Exit]] = {row["id"]: [] for row in closed}
    for sell in sells:
        exits[sell["position_id"]].append(Exit(sell["rule"], sell["realized_pnl_sol"]))
    return [ClosedTrade(str(row["id"]), row["opened_at"], row["closed_at"], row["realized_pnl_sol"],
                        tuple(exits[row["id"]])) for row in closed]

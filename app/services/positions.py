"""Positions and trades: read models with P&L, and the manual sell."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection

from app.core.sell import open_pnl
from app.errors import NotFound
from app.repos import orders as order_repo
from app.repos import positions as position_repo
from app.services.sell_engine import SellDeps, sell_manually
from app.store.postgres import PostgresStore


def _with_pnl(row: dict[str, Any]) -> dict[str, Any]:
    pnl = open_pnl(row["sol_spent"], int(row["initial_tokens_raw"]), int(row["tokens_raw"]), row["token_decimals"],
                   row["last_price_sol"])
    change = None
    if row["last_price_sol"] is not None:
        change = (row["last_price_sol"] - row["entry_price_sol"]) / row["entry_price_sol"] * 100
    return {**row, **pnl, "change_from_entry_pct": change}


def list_positions(conn: Connection, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Positions with their P&L, newest first."""
    rows = position_repo.list_positions(conn, filters.get("wallet_alias"), filters.get("status"),
                                        filters.get("mint"), limit)
    return [_with_pnl(row) for row in rows]


def get_position(conn: Connection, position_id: UUID) -> dict[str, Any]:
    """One position with its P&L and trades."""
    row = position_repo.get_position(conn, position_id)
    if row is None:
        raise NotFound(f"Position {position_id} not found.")
    return {**_with_pnl(row), "trades": position_repo.list_trades(conn, None, None, position_id, 1000),
            "orders": order_repo.for_position(conn, position_id)}


def sell_position(conn: Connection, position_id: UUID, pct: Decimal, deps: SellDeps) -> dict[str, Any]:
    """Manual exit of pct % of the held tokens; returns the position afterwards."""
    sell_manually(PostgresStore(conn), position_id, pct, deps)
    return get_position(conn, position_id)


def list_trades(conn: Connection, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Trades, newest first."""
    return position_repo.list_trades(conn, filters.get("wallet_alias"), filters.get("mint"), None, limit)

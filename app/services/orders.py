"""Orders as the API shows them (the lifecycle lives in the engines, chain_orders and the reconciler)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection

from app.errors import NotFound
from app.repos import orders as order_repo
from app.services.wallets import get_wallet


def list_orders(conn: Connection, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Orders, newest first, by wallet alias (404 when unknown) and state."""
    alias = filters.get("wallet_alias")
    if alias is not None:
        get_wallet(conn, alias)  # NotFound for an unknown alias
    return order_repo.list_orders(conn, alias, filters.get("state"), limit)


def get_order(conn: Connection, order_id: UUID) -> dict[str, Any]:
    """One order, or NotFound."""
    order = order_repo.get_public(conn, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} not found.")
    return order

"""Small read helpers that assertions use: row counts, a 422's field errors, a wallet's balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg import Connection

from tests.factories import WALLET_ALIAS


def count(conn: Connection, table: str) -> int:
    """Rows in a table."""
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def error_fields(response: Any) -> dict[str, Any]:
    """The per-field errors of a 422 body (flask-smorest envelope, json location)."""
    return response.get_json()["errors"]["json"]


def wallet_balance(conn: Connection, alias: str = WALLET_ALIAS) -> Decimal:
    """A wallet's paper balance, read from the database."""
    return conn.execute("SELECT virtual_sol_balance FROM wallets WHERE alias = %s",
                        (alias,)).fetchone()["virtual_sol_balance"]

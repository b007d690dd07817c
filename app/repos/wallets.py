"""SQL for the wallets aggregate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection, sql

_COLUMNS = """w.id, w.alias, w.type, w.public_key, w.trading_enabled, w.virtual_sol_balance,
    w.created_at, w.updated_at, (w.encrypted_secret_key IS NOT NULL) AS has_secret_key,
    w.max_buys_per_day, w.max_daily_loss_sol, w.max_position_pct, w.breaker_losing_sells, w.losing_streak,
    w.breaker_tripped_at, w.breaker_reason,
    (SELECT count(*) FROM positions p WHERE p.wallet_id = w.id AND p.status = 'OPEN') AS open_positions"""


def insert(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Insert a wallet; raises psycopg UniqueViolation on a taken alias."""
    row = conn.execute(
        """INSERT INTO wallets (alias, type, public_key, encrypted_secret_key, trading_enabled, virtual_sol_balance)
           VALUES (%(alias)s, %(type)s, %(public_key)s, %(encrypted_secret_key)s, %(trading_enabled)s,
                   %(virtual_sol_balance)s)
           RETURNING id""",
        values,
    ).fetchone()
    return get(conn, row["id"])


def get(conn: Connection, wallet_id: UUID) -> dict[str, Any] | None:
    """One wallet by id."""
    return conn.execute(f"SELECT {_COLUMNS} FROM wallets w WHERE w.id = %s", (wallet_id,)).fetchone()


def get_by_alias(conn: Connection, alias: str, for_update: bool = False) -> dict[str, Any] | None:
    """One wallet by alias, optionally row-locked for the rest of the transaction."""
    if for_update:
        conn.execute("SELECT 1 FROM wallets WHERE alias = %s FOR UPDATE", (alias,))
    return conn.execute(f"SELECT {_COLUMNS} FROM wallets w WHERE w.alias = %s", (alias,)).fetchone()


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every wallet, by alias."""
    return conn.execute(f"SELECT {_COLUMNS} FROM wallets w ORDER BY w.alias").fetchall()


def set_trading_enabled(conn: Connection, wallet_id: UUID, enabled: bool) -> None:
    """Switch trading on or off for a wallet."""
    conn.execute(
        "UPDATE wallets SET trading_enabled = %s, updated_at = now() WHERE id = %s", (enabled, wallet_id)
    )


def credit(conn: Connection, wallet_id: UUID, amount_sol: Decimal) -> None:
    """Add SOL to a TEST wallet's paper balance (a sell's proceeds, a top-up)."""
    conn.execute(
        "UPDATE wallets SET virtual_sol_balance = virtual_sol_balance + %s, updated_at = now() WHERE id = %s",
        (amount_sol, wallet_id),
    )


def debit(conn: Connection, wallet_id: UUID, amount_sol: Decimal) -> None:
    """Take SOL off a TEST wallet's paper balance (the CHECK constraint refuses going below zero)."""
    conn.execute(
        "UPDATE wallets SET virtual_sol_balance = virtual_sol_balance - %s, updated_at = now() WHERE id = %s",
        (amount_sol, wallet_id),
    )


def type_of(conn: Connection, wallet_id: UUID) -> str | None:
    """A wallet's type, TEST or REAL (None when it does not exist)."""
    row = conn.execute("SELECT type FROM wallets WHERE id = %s", (wallet_id,)).fetchone()
    return None if row is None else row["type"]


def count_with_alias(conn: Connection, alias: str) -> dict[str, int]:
    """How many wallets exist (`wallets`) and how many have this alias (`matching`)."""
    return conn.execute("SELECT count(*) AS wallets, count(*) FILTER (WHERE alias = %s) AS matching FROM wallets",
                        (alias,)).fetchone()


def delete(conn: Connection, wallet_id: UUID) -> None:
    """Delete a wallet (its workflows and logs cascade)."""
    conn.execute("DELETE FROM wallets WHERE id = %s", (wallet_id,))


def encrypted_secrets(conn: Connection, lock: bool = False) -> list[dict[str, Any]]:
    """(id, encrypted_secret_key) of every wallet holding a signing key, optionally row-locked."""
    suffix = " FOR UPDATE" if lock else ""
    return conn.execute("SELECT id, encrypted_secret_key FROM wallets WHERE encrypted_secret_key IS NOT NULL "
                        "ORDER BY id" + suffix).fetchall()


def signing_row(conn: Connection, wallet_id: UUID) -> dict[str, Any] | None:
    """(public_key, encrypted_secret_key) of one wallet: what signing its transactions needs."""
    return conn.execute("SELECT public_key, encrypted_secret_key FROM wallets WHERE id = %s",
                        (wallet_id,)).fetchone()


def set_encrypted_secret(conn: Connection, wallet_id: UUID, token: str) -> None:
    """Replace a wallet's encrypted signing key."""
    conn.execute("UPDATE wallets SET encrypted_secret_key = %s, updated_at = now() WHERE id = %s", (token, wallet_id))


def lock_streak(conn: Connection, wallet_id: UUID) -> dict[str, Any]:
    """Row-lock the wallet (as its balance update does) and read its losing streak and breaker."""
    return conn.execute(
        """SELECT alias, losing_streak, breaker_losing_sells, breaker_tripped_at FROM wallets WHERE id = %s
           FOR NO KEY UPDATE""", (wallet_id,)).fetchone()


def set_streak(conn: Connection, wallet_id: UUID, streak: int, tripped_at: datetime | None,
               reason: str | None) -> None:
    """Store the losing streak and, when given, trip the breaker at `tripped_at` with its reason."""
    conn.execute(
        """UPDATE wallets SET losing_streak = %(streak)s,
               breaker_tripped_at = CASE WHEN %(reason)s::text IS NULL THEN breaker_tripped_at
                                         ELSE coalesce(%(at)s::timestamptz, now()) END,
               breaker_reason = coalesce(%(reason)s, breaker_reason)
           WHERE id = %(id)s""",
        {"id": wallet_id, "streak": streak, "at": tripped_at, "reason": reason})


def set_limits(conn: Connection, wallet_id: UUID, limits: dict[str, Any]) -> None:
    """Set any of max_buys_per_day, max_daily_loss_sol, max_position_pct (None: no limit), breaker_losing_sells."""
    for column in ("max_buys_per_day", "max_daily_loss_sol", "max_position_pct", "breaker_losing_sells"):
        if column in limits:
            conn.execute(sql.SQL("UPDATE wallets SET {} = %s, updated_at = now() WHERE id = %s").format(
                sql.Identifier(column)), (limits[column], wallet_id))


def reset_breaker(conn: Connection, wallet_id: UUID) -> None:
    """Close the circuit breaker and start the losing streak again from zero."""
    conn.execute("UPDATE wallets SET breaker_tripped_at = NULL, breaker_reason = NULL, losing_streak = 0, "
                 "updated_at = now() WHERE id = %s", (wallet_id,))

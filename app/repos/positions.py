"""SQL for positions and their trades (trade_logs)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection


def insert_open(conn: Connection, values: dict[str, Any]) -> UUID:
    """Open a position; UniqueViolation when the wallet already holds the mint."""
    return conn.execute(
        """INSERT INTO positions (wallet_id, mint, token_decimals, initial_tokens_raw, tokens_raw, sol_spent,
               entry_price_sol, peak_price_sol, last_price_sol, buy_workflow_id)
           VALUES (%(wallet_id)s, %(mint)s, %(decimals)s, %(tokens_raw)s, %(tokens_raw)s, %(sol_spent)s,
               %(price_sol)s, %(price_sol)s, %(price_sol)s, %(workflow_id)s)
           RETURNING id""", values).fetchone()["id"]


def insert_trade(conn: Connection, values: dict[str, Any]) -> UUID:
    """Write one trade_logs row."""
    params = {"realized_pnl_sol": None, "rule": None, "is_paper": True, "tx_signature": None, **values}
    return conn.execute(
        """INSERT INTO trade_logs (wallet_id, position_id, workflow_id, mint, action, sol_amount, token_amount_raw,
               price_sol, fee_sol, realized_pnl_sol, rule, is_paper, tx_signature)
           VALUES (%(wallet_id)s, %(position_id)s, %(workflow_id)s, %(mint)s, %(action)s, %(sol_amount)s,
               %(token_amount_raw)s, %(price_sol)s, %(fee_sol)s, %(realized_pnl_sol)s, %(rule)s, %(is_paper)s,
               %(tx_signature)s)
           RETURNING id""", params).fetchone()["id"]


def debit_wallet(conn: Connection, wallet_id: UUID, amount_sol: Decimal) -> None:
    """Take SOL off a TEST wallet's paper balance (the CHECK constraint refuses going below zero)."""
    conn.execute("UPDATE wallets SET virtual_sol_balance = virtual_sol_balance - %s, updated_at = now() "
                 "WHERE id = %s", (amount_sol, wallet_id))


def decimals_of(conn: Connection, mint: str) -> int | None:
    """The mint's decimals, if known."""
    row = conn.execute("SELECT decimals FROM mints WHERE mint = %s", (mint,)).fetchone()
    return None if row is None else row["decimals"]

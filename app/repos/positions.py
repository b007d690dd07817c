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
               entry_price_sol, peak_price_sol, last_price_sol, buy_workflow_id, opened_at)
           VALUES (%(wallet_id)s, %(mint)s, %(decimals)s, %(tokens_raw)s, %(tokens_raw)s, %(sol_spent)s,
               %(price_sol)s, %(price_sol)s, %(price_sol)s, %(workflow_id)s, COALESCE(%(at)s, now()))
           RETURNING id""", {"at": None, **values}).fetchone()["id"]


def insert_trade(conn: Connection, values: dict[str, Any]) -> UUID:
    """Write one trade_logs row."""
    params = {"realized_pnl_sol": None, "rule": None, "is_paper": True, "tx_signature": None, "at": None,
              "order_id": None, **values}
    return conn.execute(
        """INSERT INTO trade_logs (wallet_id, position_id, workflow_id, mint, action, sol_amount, token_amount_raw,
               price_sol, fee_sol, realized_pnl_sol, rule, is_paper, tx_signature, order_id, created_at)
           VALUES (%(wallet_id)s, %(position_id)s, %(workflow_id)s, %(mint)s, %(action)s, %(sol_amount)s,
               %(token_amount_raw)s, %(price_sol)s, %(fee_sol)s, %(realized_pnl_sol)s, %(rule)s, %(is_paper)s,
               %(tx_signature)s, %(order_id)s, COALESCE(%(at)s, now()))
           RETURNING id""", params).fetchone()["id"]


def check_target(conn: Connection, position_id: UUID) -> dict[str, Any] | None:
    """A position with its wallet, the wallet's active SELL workflow (NULLs when none) and the halt state."""
    return conn.execute(
        """SELECT p.*, w.alias AS wallet_alias, w.type AS wallet_type, w.trading_enabled,
                  sw.id AS sell_workflow_id, sw.name AS sell_workflow_name, sw.chain AS sell_chain,
                  sw.sell_amount_pct, sw.slippage_bps AS sell_slippage_bps,
                  ts.halted, ts.halt_sells, ts.reason AS halt_reason
           FROM positions p JOIN wallets w ON w.id = p.wallet_id
           LEFT JOIN trading_workflows sw ON sw.wallet_id = p.wallet_id AND sw.type = 'SELL' AND sw.is_active
           LEFT JOIN trading_state ts ON ts.id
           WHERE p.id = %s""", (position_id,)).fetchone()


def lock_open(conn: Connection, position_id: UUID) -> dict[str, Any] | None:
    """Row-lock an OPEN position for this transaction (None when it is closed or gone)."""
    return conn.execute("SELECT * FROM positions WHERE id = %s AND status = 'OPEN' FOR UPDATE",
                        (position_id,)).fetchone()


def record_price(conn: Connection, position_id: UUID, price_sol: Decimal, peak_price_sol: Decimal,
                 rule_fired: bool = False) -> None:
    """Store a check's price, the raised peak and the check time; when no rule fired, clear the sell error."""
    conn.execute(
        """UPDATE positions SET last_price_sol = %s, peak_price_sol = GREATEST(peak_price_sol, %s),
               last_checked_at = now(), last_check_error = NULL,
               failing_rule = CASE WHEN %s THEN failing_rule END WHERE id = %s""",
        (price_sol, peak_price_sol, rule_fired, position_id))


def record_check_error(conn: Connection, position_id: UUID, message: str) -> None:
    """Note a check that could not price or sell the position."""
    conn.execute("UPDATE positions SET last_checked_at = now(), last_check_error = %s WHERE id = %s",
                 (message[:1000], position_id))


def set_failing_rule(conn: Connection, position_id: UUID, rule: str | None) -> None:
    """Remember (or clear) the rule whose sell failed, so its ERROR is logged once."""
    conn.execute("UPDATE positions SET failing_rule = %s WHERE id = %s", (rule, position_id))


def apply_sell(conn: Connection, position_id: UUID, values: dict[str, Any]) -> None:
    """Reduce or close an OPEN position after a sell (fired rule recorded when given)."""
    conn.execute(
        """UPDATE positions SET tokens_raw = %(tokens_left)s, sol_received = sol_received + %(net_sol)s,
               realized_pnl_sol = %(realized)s, failing_rule = NULL,
               fired_rules = CASE WHEN %(rule_key)s::text IS NULL THEN fired_rules
                                  ELSE fired_rules || to_jsonb(%(rule_key)s::text) END,
               status = CASE WHEN %(tokens_left)s = 0 THEN 'CLOSED' ELSE status END,
               closed_at = CASE WHEN %(tokens_left)s = 0 THEN COALESCE(%(at)s, now()) END,
               close_reason = CASE WHEN %(tokens_left)s = 0 THEN %(reason)s END
           WHERE id = %(id)s AND status = 'OPEN'""",
        {"at": None, **values, "id": position_id})


def open_ids(conn: Connection) -> list[UUID]:
    """Every OPEN position's id in opening order (time, then the order they were opened in)."""
    return [row["id"] for row in conn.execute(
        "SELECT id FROM positions WHERE status = 'OPEN' ORDER BY opened_at, seq").fetchall()]


def status_of(conn: Connection, position_id: UUID) -> str | None:
    """A position's status (None when it does not exist)."""
    row = conn.execute("SELECT status FROM positions WHERE id = %s", (position_id,)).fetchone()
    return None if row is None else row["status"]


_LIST = """SELECT p.*, w.alias AS wallet_alias, bw.name AS buy_workflow_name
           FROM positions p JOIN wallets w ON w.id = p.wallet_id
           LEFT JOIN trading_workflows bw ON bw.id = p.buy_workflow_id"""


def list_positions(conn: Connection, wallet_alias: str | None, status: str | None, mint: str | None,
                   limit: int) -> list[dict[str, Any]]:
    """Positions, newest first, filtered."""
    return conn.execute(
        _LIST + """ WHERE (%(alias)s::text IS NULL OR w.alias = %(alias)s)
                      AND (%(status)s::text IS NULL OR p.status = %(status)s)
                      AND (%(mint)s::text IS NULL OR p.mint = %(mint)s)
                    ORDER BY p.opened_at DESC, p.id LIMIT %(limit)s""",
        {"alias": wallet_alias, "status": status, "mint": mint, "limit": limit}).fetchall()


def get_position(conn: Connection, position_id: UUID) -> dict[str, Any] | None:
    """One position with its wallet alias."""
    return conn.execute(_LIST + " WHERE p.id = %s", (position_id,)).fetchone()


def list_trades(conn: Connection, wallet_alias: str | None, mint: str | None, position_id: UUID | None,
                limit: int) -> list[dict[str, Any]]:
    """Trades, newest first, filtered."""
    return conn.execute(
        """SELECT t.*, w.alias AS wallet_alias FROM trade_logs t JOIN wallets w ON w.id = t.wallet_id
           WHERE (%(alias)s::text IS NULL OR w.alias = %(alias)s) AND (%(mint)s::text IS NULL OR t.mint = %(mint)s)
             AND (%(position)s::uuid IS NULL OR t.position_id = %(position)s)
           ORDER BY t.created_at DESC, t.id LIMIT %(limit)s""",
        {"alias": wallet_alias, "mint": mint, "position": position_id, "limit": limit}).fetchall()

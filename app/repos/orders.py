"""SQL for orders: every trade's order row and its guarded state transitions (UPDATE ... WHERE state = ...)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

_PUBLIC_COLUMNS = """o.id, o.wallet_id, w.alias AS wallet_alias, o.side, o.mint, o.state, o.is_paper, o.workflow_id,
    o.prediction_id, o.position_id, o.execution_id, o.trade_log_id, o.in_amount, o.quoted_out, o.out_amount,
    o.slippage_bps, o.fee_lamports, o.rent_lamports, o.sol_change_lamports, o.signature, o.last_valid_block_height,
    o.slot, o.error, o.created_at, o.sent_at, o.finished_at"""


def insert(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Write an order (PENDING unless `state` is given); UniqueViolation when its slot is taken."""
    params = {"state": "PENDING", "workflow_id": None, "prediction_id": None, "position_id": None,
              "execution_id": None, "trade_log_id": None, "quoted_out": None, "out_amount": None,
              "slippage_bps": None, "fee_lamports": None, "at": None, **values,
              "context": Jsonb(values.get("context") or {})}
    return conn.execute(
        """INSERT INTO orders (wallet_id, side, mint, state, is_paper, workflow_id, prediction_id, position_id,
               execution_id, trade_log_id, in_amount, quoted_out, out_amount, slippage_bps, fee_lamports, context,
               created_at, finished_at)
           VALUES (%(wallet_id)s, %(side)s, %(mint)s, %(state)s, %(is_paper)s, %(workflow_id)s, %(prediction_id)s,
               %(position_id)s, %(execution_id)s, %(trade_log_id)s, %(in_amount)s, %(quoted_out)s, %(out_amount)s,
               %(slippage_bps)s, %(fee_lamports)s, %(context)s, COALESCE(%(at)s, now()),
               CASE WHEN %(state)s IN ('PENDING', 'SENT') THEN NULL ELSE COALESCE(%(at)s, now()) END)
           RETURNING *""", params).fetchone()


def link(conn: Connection, order_id: UUID, **links: Any) -> None:
    """Point a filled order at what it produced (execution_id, trade_log_id, position_id)."""
    allowed = {"execution_id", "trade_log_id", "position_id"}
    assignments = ", ".join(f"{name} = %({name})s" for name in links if name in allowed)
    conn.execute(f"UPDATE orders SET {assignments} WHERE id = %(id)s", {**links, "id": order_id})


def mark_sent(conn: Connection, order_id: UUID, values: dict[str, Any]) -> bool:
    """PENDING -> SENT with the signature, the signed bytes and lastValidBlockHeight; False if no longer PENDING."""
    return conn.execute(
        """UPDATE orders SET state = 'SENT', signature = %(signature)s, signed_transaction = %(raw)s,
               last_valid_block_height = %(last_valid_block_height)s, quoted_out = %(quoted_out)s, sent_at = now()
           WHERE id = %(id)s AND state = 'PENDING'""", {**values, "id": order_id}).rowcount == 1


def finish(conn: Connection, order_id: UUID, from_states: tuple[str, ...],
           values: dict[str, Any]) -> dict[str, Any] | None:
    """Move an order from one of `from_states` to its final state with the chain's figures; None if it had moved."""
    params = {"out_amount": None, "fee_lamports": None, "rent_lamports": None, "sol_change_lamports": None,
              "slot": None, "error": None, **values, "id": order_id, "from_states": list(from_states)}
    return conn.execute(
        """UPDATE orders SET state = %(state)s, out_amount = %(out_amount)s, fee_lamports = %(fee_lamports)s,
               rent_lamports = %(rent_lamports)s, sol_change_lamports = %(sol_change_lamports)s, slot = %(slot)s,
               error = %(error)s, finished_at = now()
           WHERE id = %(id)s AND state = ANY(%(from_states)s)
           RETURNING *""", params).fetchone()


def get(conn: Connection, order_id: UUID) -> dict[str, Any] | None:
    """One order, with the signed bytes and context the executor needs."""
    return conn.execute("SELECT * FROM orders WHERE id = %s", (order_id,)).fetchone()


def open_for_position(conn: Connection, position_id: UUID) -> dict[str, Any] | None:
    """The position's order in flight (PENDING or SENT), if any."""
    return conn.execute("SELECT * FROM orders WHERE position_id = %s AND state IN ('PENDING', 'SENT')",
                        (position_id,)).fetchone()


def to_reconcile(conn: Connection, pending_older_than_seconds: float) -> list[dict[str, Any]]:
    """Every SENT order, and PENDING ones older than the given age (their worker stopped before sending)."""
    return conn.execute(
        """SELECT * FROM orders
           WHERE state = 'SENT' OR (state = 'PENDING' AND created_at < now() - make_interval(secs => %s))
           ORDER BY created_at""", (pending_older_than_seconds,)).fetchall()


def count_open(conn: Connection) -> int:
    """How many orders are in flight (PENDING or SENT)."""
    return conn.execute("SELECT count(*) AS n FROM orders WHERE state IN ('PENDING', 'SENT')").fetchone()["n"]


def list_orders(conn: Connection, wallet_alias: str | None, state: str | None, limit: int) -> list[dict[str, Any]]:
    """Orders, newest first, filtered by wallet and state."""
    return conn.execute(
        f"""SELECT {_PUBLIC_COLUMNS} FROM orders o JOIN wallets w ON w.id = o.wallet_id
            WHERE (%(alias)s::text IS NULL OR w.alias = %(alias)s) AND (%(state)s::text IS NULL OR o.state = %(state)s)
            ORDER BY o.created_at DESC, o.id LIMIT %(limit)s""",
        {"alias": wallet_alias, "state": state, "limit": limit}).fetchall()


def get_public(conn: Connection, order_id: UUID) -> dict[str, Any] | None:
    """One order as the API shows it (no signed bytes, no context)."""
    return conn.execute(f"""SELECT {_PUBLIC_COLUMNS} FROM orders o JOIN wallets w ON w.id = o.wallet_id
                            WHERE o.id = %s""", (order_id,)).fetchone()


def for_position(conn: Connection, position_id: UUID) -> list[dict[str, Any]]:
    """A position's orders (its buy, then its sells), oldest first."""
    return conn.execute(f"""SELECT {_PUBLIC_COLUMNS} FROM orders o JOIN wallets w ON w.id = o.wallet_id
                            WHERE o.position_id = %s ORDER BY o.created_at, o.id""", (position_id,)).fetchall()

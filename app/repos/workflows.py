"""SQL for the trading_workflows aggregate."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

_SELECT = """
SELECT tw.*, w.alias AS wallet_alias, last.created_at AS last_execution_at, last.result AS last_execution_result
FROM trading_workflows tw
JOIN wallets w ON w.id = tw.wallet_id
LEFT JOIN LATERAL (
    SELECT we.created_at, we.result FROM workflow_executions we
    WHERE we.workflow_id = tw.id ORDER BY we.created_at DESC LIMIT 1
) last ON TRUE
"""

EDITABLE = ("name", "chain", "buy_amount_mode", "buy_amount_value", "sell_amount_pct",
            "cooldown_seconds", "max_open_positions", "require_approval", "slippage_bps")


def list_workflows(conn: Connection, wallet_alias: str | None = None, type_: str | None = None) -> list[dict]:
    """Workflows, newest first, optionally only one wallet's or one type's."""
    return conn.execute(
        _SELECT + """WHERE (%(alias)s::text IS NULL OR w.alias = %(alias)s)
                     AND (%(type)s::text IS NULL OR tw.type = %(type)s)
                     ORDER BY tw.created_at DESC, tw.id""",
        {"alias": wallet_alias, "type": type_},
    ).fetchall()


def get(conn: Connection, workflow_id: UUID) -> dict[str, Any] | None:
    """One workflow with its wallet alias and last execution."""
    return conn.execute(_SELECT + "WHERE tw.id = %s", (workflow_id,)).fetchone()


def lock(conn: Connection, workflow_id: UUID) -> dict[str, Any] | None:
    """Row-lock a workflow for an update in this transaction and return its columns."""
    return conn.execute("SELECT * FROM trading_workflows WHERE id = %s FOR UPDATE", (workflow_id,)).fetchone()


def insert(conn: Connection, values: dict[str, Any]) -> UUID:
    """Insert a workflow; returns its id. Raises UniqueViolation for a second active SELL on a wallet."""
    params = {**values, "chain": Jsonb(values["chain"])}
    row = conn.execute(
        """INSERT INTO trading_workflows (wallet_id, name, type, is_active, chain, buy_amount_mode,
               buy_amount_value, sell_amount_pct, cooldown_seconds, max_open_positions, require_approval,
               slippage_bps)
           VALUES (%(wallet_id)s, %(name)s, %(type)s, %(is_active)s, %(chain)s, %(buy_amount_mode)s,
               %(buy_amount_value)s, %(sell_amount_pct)s, %(cooldown_seconds)s, %(max_open_positions)s,
               %(require_approval)s, %(slippage_bps)s)
           RETURNING id""",
        params,
    ).fetchone()
    return row["id"]


def update(conn: Connection, workflow_id: UUID, values: dict[str, Any]) -> None:
    """Set the given editable columns."""
    columns = [c for c in EDITABLE if c in values]
    if not columns:
        return
    params = {c: Jsonb(values[c]) if c == "chain" else values[c] for c in columns}
    assignments = ", ".join(f"{c} = %({c})s" for c in columns)
    conn.execute(
        f"UPDATE trading_workflows SET {assignments}, updated_at = now() WHERE id = %(id)s",
        {**params, "id": workflow_id},
    )


def set_active(conn: Connection, workflow_id: UUID, active: bool) -> bool:
    """Switch a workflow on or off; False when it does not exist."""
    cur = conn.execute(
        "UPDATE trading_workflows SET is_active = %s, updated_at = now() WHERE id = %s", (active, workflow_id)
    )
    return cur.rowcount == 1


def delete(conn: Connection, workflow_id: UUID) -> bool:
    """Delete a workflow and its execution log; False when it does not exist."""
    return conn.execute("DELETE FROM trading_workflows WHERE id = %s", (workflow_id,)).rowcount == 1


def active_sell_workflow_name(conn: Connection, wallet_id: UUID) -> str | None:
    """Name of the wallet's active SELL workflow, if any."""
    row = conn.execute(
        "SELECT name FROM trading_workflows WHERE wallet_id = %s AND type = 'SELL' AND is_active", (wallet_id,)
    ).fetchone()
    return row["name"] if row else None

"""SQL the BUY engine reads: active workflows for a trigger model with their wallet's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection

_STATE = """
    (SELECT max(we.created_at) FROM workflow_executions we
      WHERE we.workflow_id = tw.id AND we.result = 'EXECUTED') AS last_executed_at,
    (SELECT count(*) FROM positions p WHERE p.wallet_id = w.id AND p.status = 'OPEN')
      + (SELECT count(*) FROM orders o WHERE o.wallet_id = w.id AND o.side = 'BUY'
           AND o.state IN ('PENDING', 'SENT')) AS open_positions,
    EXISTS (SELECT 1 FROM positions p WHERE p.wallet_id = w.id AND p.mint = %(mint)s AND p.status = 'OPEN')
      OR EXISTS (SELECT 1 FROM orders o WHERE o.wallet_id = w.id AND o.mint = %(mint)s AND o.side = 'BUY'
                   AND o.state IN ('PENDING', 'SENT')) AS holds_mint,
    (SELECT coalesce(sum(o.in_amount), 0) FROM orders o WHERE o.wallet_id = w.id AND o.side = 'BUY'
       AND o.state IN ('PENDING', 'SENT')) AS open_buy_lamports,
    (SELECT m.decimals FROM mints m WHERE m.mint = %(mint)s) AS mint_decimals,
    now() AS db_now
"""


def active_for_trigger(conn: Connection, model_id: int, mint: str) -> list[dict[str, Any]]:
    """Active BUY workflows triggered by model_id on trading-enabled wallets, with each wallet's state."""
    return conn.execute(
        f"""SELECT tw.id, tw.name, tw.chain, tw.buy_amount_mode, tw.buy_amount_value, tw.cooldown_seconds,
                   tw.max_open_positions, tw.require_approval, tw.slippage_bps, w.id AS wallet_id,
                   w.type AS wallet_type, w.public_key, w.virtual_sol_balance, {_STATE}
            FROM trading_workflows tw JOIN wallets w ON w.id = tw.wallet_id
            WHERE tw.type = 'BUY' AND tw.is_active AND w.trading_enabled
              AND ((tw.chain -> 'trigger' ->> 'model_id')::bigint) = %(model_id)s
            ORDER BY tw.created_at, tw.id""",
        {"model_id": model_id, "mint": mint},
    ).fetchall()


def lock_for_buy(conn: Connection, workflow_id: UUID, mint: str) -> dict[str, Any] | None:
    """Row-lock the workflow's wallet (serialising its buys), share-lock the halt (a halt's UPDATE waits for this
    transaction) and re-read both; None if no longer eligible."""
    return conn.execute(
        f"""SELECT tw.is_active, w.trading_enabled, w.virtual_sol_balance, w.id AS wallet_id, w.max_buys_per_day,
                   w.max_daily_loss_sol, w.max_position_pct, w.breaker_tripped_at, w.breaker_reason,
                   ts.halted, ts.halt_sells, ts.reason AS halt_reason, ts.halted_at, {_STATE}
            FROM trading_workflows tw JOIN wallets w ON w.id = tw.wallet_id
            LEFT JOIN LATERAL (SELECT halted, halt_sells, reason, halted_at FROM trading_state WHERE id
                               FOR SHARE) ts ON TRUE
            WHERE tw.id = %(workflow_id)s
            FOR UPDATE OF w""",
        {"workflow_id": workflow_id, "mint": mint},
    ).fetchone()


def daily_usage(conn: Connection, wallet_id: UUID, at: datetime | None) -> dict[str, Any]:
    """The wallet's buys and net realised P&L of its sells since 00:00 UTC of `at` (None: the database's now())."""
    return conn.execute(
        """SELECT count(*) FILTER (WHERE action = 'BUY') AS buys_today,
                  coalesce(sum(realized_pnl_sol) FILTER (WHERE action = 'SELL'), 0) AS realized_pnl_today_sol
           FROM trade_logs
           WHERE wallet_id = %(wallet_id)s
             AND created_at >= date_trunc('day', coalesce(%(at)s::timestamptz, now()) AT TIME ZONE 'UTC')
                               AT TIME ZONE 'UTC'
             AND created_at <= coalesce(%(at)s::timestamptz, now())""",
        {"wallet_id": wallet_id, "at": at},
    ).fetchone()


def workflow_for_buy(conn: Connection, workflow_id: UUID, mint: str) -> dict[str, Any] | None:
    """A BUY workflow with its wallet's state, as active_for_trigger gives it (for an approved buy)."""
    return conn.execute(
        f"""SELECT tw.id, tw.name, tw.chain, tw.buy_amount_mode, tw.buy_amount_value, tw.cooldown_seconds,
                   tw.max_open_positions, tw.require_approval, tw.slippage_bps, w.id AS wallet_id,
                   w.type AS wallet_type, w.public_key, w.virtual_sol_balance, {_STATE}
            FROM trading_workflows tw JOIN wallets w ON w.id = tw.wallet_id
            WHERE tw.id = %(workflow_id)s AND tw.type = 'BUY'""",
        {"workflow_id": workflow_id, "mint": mint},
    ).fetchone()

"""SQL for backtests: their rows, and reading a period's inputs once (the run itself is in memory)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb


def insert(conn: Connection, request: dict[str, Any]) -> dict[str, Any]:
    """A QUEUED backtest for this request."""
    return conn.execute("INSERT INTO backtests (request) VALUES (%s) RETURNING *", (Jsonb(request),)).fetchone()


def get(conn: Connection, backtest_id: UUID) -> dict[str, Any] | None:
    """One backtest row."""
    return conn.execute("SELECT * FROM backtests WHERE id = %s", (backtest_id,)).fetchone()


def set_progress(conn: Connection, backtest_id: UUID, progress: Decimal, status: str = "RUNNING") -> None:
    """Record how far a run is."""
    conn.execute("UPDATE backtests SET status = %s, progress = %s WHERE id = %s", (status, progress, backtest_id))


def finish(conn: Connection, backtest_id: UUID, result: dict[str, Any]) -> None:
    """Store a finished run's summary, trades and equity curve."""
    conn.execute(
        """UPDATE backtests SET status = 'DONE', progress = 100, summary = %s, trades = %s, equity = %s,
               finished_at = now() WHERE id = %s""",
        (Jsonb(result["summary"]), Jsonb(result["trades"]), Jsonb(result["equity"]), backtest_id))


def fail(conn: Connection, backtest_id: UUID, error: str) -> None:
    """Mark a run FAILED with its error."""
    conn.execute("UPDATE backtests SET status = 'FAILED', error = %s, finished_at = now() WHERE id = %s",
                 (error[:2000], backtest_id))


def counts_in_period(conn: Connection, start: datetime, until: datetime) -> dict[str, int]:
    """How many predictions, coin metrics and recorded prices fall in [start, until]."""
    return conn.execute(
        """SELECT (SELECT count(*) FROM predictions WHERE predicted_at BETWEEN %(s)s AND %(u)s) AS predictions,
                  (SELECT count(*) FROM coin_metrics WHERE ts BETWEEN %(s)s AND %(u)s) AS metrics,
                  (SELECT count(*) FROM price_history WHERE ts BETWEEN %(s)s AND %(u)s) AS recorded""",
        {"s": start, "u": until}).fetchone()


def models_with_bytes(conn: Connection) -> list[dict[str, Any]]:
    """Every model with stored bytes: id, sha256, feature_names, model_data."""
    return conn.execute("""SELECT id, sha256, feature_names, model_data FROM ml_models
                           WHERE model_data IS NOT NULL ORDER BY id""").fetchall()


def mint_decimals(conn: Connection) -> dict[str, int]:
    """Every known mint's decimals."""
    return {row["mint"]: row["decimals"] for row in conn.execute("SELECT mint, decimals FROM mints ORDER BY mint")}


def metrics_between(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Coin metric points with ts in (since, until] and not after now(), by mint then time."""
    return conn.execute("""SELECT * FROM coin_metrics WHERE ts > %s AND ts <= %s AND ts <= now()
                           ORDER BY mint, ts""", (since, until)).fetchall()


def predictions_between(conn: Connection, start: datetime, until: datetime) -> list[dict[str, Any]]:
    """Predictions made in [start, until], in time then arrival order."""
    return conn.execute("""SELECT id, seq, client_id, mint, model_id, probability, prediction, tag, predicted_at
                           FROM predictions WHERE predicted_at >= %s AND predicted_at <= %s
                           ORDER BY predicted_at, seq""", (start, until)).fetchall()


def prices_between(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Recorded prices with ts in (since, until], in time then recording order."""
    return conn.execute("""SELECT mint, ts, price_sol, source, id FROM price_history WHERE ts > %s AND ts <= %s
                           ORDER BY ts, id""", (since, until)).fetchall()


def positions_with_trades(conn: Connection) -> list[dict[str, Any]]:
    """Every position with its buy's steps and its sells (a scratch database), in opening order."""
    return conn.execute(
        """SELECT p.id, p.mint, p.status, p.opened_at, p.closed_at, p.sol_spent, p.entry_price_sol,
                  p.initial_tokens_raw, p.realized_pnl_sol, p.close_reason,
                  (SELECT e.steps_log FROM workflow_executions e WHERE e.position_id = p.id
                   ORDER BY e.created_at LIMIT 1) AS buy_steps,
                  COALESCE((SELECT jsonb_agg(jsonb_build_object(
                      'at', t.created_at, 'rule', t.rule, 'sol_amount', t.sol_amount::text,
                      'token_amount_raw', t.token_amount_raw::text, 'price_sol', t.price_sol::text,
                      'fee_sol', t.fee_sol::text, 'realized_pnl_sol', t.realized_pnl_sol::text)
                      ORDER BY t.created_at, t.seq)
                   FROM trade_logs t WHERE t.position_id = p.id AND t.action = 'SELL'), '[]') AS sells
           FROM positions p ORDER BY p.opened_at, p.seq""").fetchall()

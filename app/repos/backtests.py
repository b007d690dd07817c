"""SQL for backtests: their rows in the main database, and copying a period's inputs into a scratch one."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.types.json import Jsonb

# table -> the SELECT that reads a period's rows from the main database (params: since, until)
_COPIES = {
    "ml_models": "SELECT * FROM ml_models",
    "mints": "SELECT * FROM mints",
    "coin_metrics": "SELECT * FROM coin_metrics WHERE ts > %(since)s AND ts <= %(until)s",
    "predictions": "SELECT * FROM predictions WHERE predicted_at >= %(start)s AND predicted_at <= %(until)s",
    "price_history": "SELECT * FROM price_history WHERE ts > %(since)s AND ts <= %(until)s",
}


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


def copy_period(source: Connection, target: Connection, table: str, period: dict[str, datetime]) -> None:
    """Copy one input table's rows of the period from the main database into a scratch one (binary COPY)."""
    with source.cursor().copy(f"COPY ({_COPIES[table]}) TO STDOUT (FORMAT BINARY)", period) as out, \
            target.cursor().copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as into:
        for block in out:
            into.write(block)


def reset_predictions(conn: Connection) -> None:
    """Make copied predictions PENDING and unclaimed, received when they were predicted (a scratch database)."""
    conn.execute("""UPDATE predictions SET status = 'PENDING', claimed_at = NULL, attempts = 0, evaluated_at = NULL,
                        outcomes = '[]', job_id = NULL, received_at = predicted_at""")


def counts_in_period(conn: Connection, start: datetime, until: datetime) -> dict[str, int]:
    """How many predictions, coin metrics and recorded prices fall in [start, until]."""
    return conn.execute(
        """SELECT (SELECT count(*) FROM predictions WHERE predicted_at BETWEEN %(s)s AND %(u)s) AS predictions,
                  (SELECT count(*) FROM coin_metrics WHERE ts BETWEEN %(s)s AND %(u)s) AS metrics,
                  (SELECT count(*) FROM price_history WHERE ts BETWEEN %(s)s AND %(u)s) AS recorded""",
        {"s": start, "u": until}).fetchone()


def predictions_in_order(conn: Connection) -> list[dict[str, Any]]:
    """Every prediction (id, time, mint, model, probability) in time, then arrival, order (a scratch database)."""
    return conn.execute("""SELECT id, predicted_at, mint, model_id, probability FROM predictions
                           ORDER BY predicted_at, seq""").fetchall()


def throw_away_commits(conn: Connection) -> None:
    """Commit without waiting for the WAL flush on this connection (a scratch database: nothing to keep on a crash)."""
    conn.execute("SET synchronous_commit TO off")


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


# prices -> (the history's table, its columns, and whether it is cut at now() as coin_metrics.latest_point is)
_HISTORIES = {"metrics": ("coin_metrics", "ts, price_sol, NULL::text AS source, 0::bigint AS id", True),
              "recorded": ("price_history", "ts, price_sol, source, id", False)}


def price_window(conn: Connection, prices: str, mint: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """A mint's price points with ts in [start, end) and the latest one before start, oldest first (ties: by id)."""
    table, columns, cut = _HISTORIES[prices]
    now = " AND ts <= now()" if cut else ""
    rows = conn.execute(
        f"""(SELECT {columns} FROM {table} WHERE mint = %(mint)s AND ts < %(start)s{now}
             ORDER BY ts DESC, id DESC LIMIT 1)
            UNION ALL
            (SELECT {columns} FROM {table} WHERE mint = %(mint)s AND ts >= %(start)s AND ts < %(end)s{now})""",
        {"mint": mint, "start": start, "end": end}).fetchall()
    return sorted(rows, key=lambda row: (row["ts"], row["id"]))

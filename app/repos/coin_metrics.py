"""SQL for the coin metrics aggregate: per-mint time-stamped metrics and the mint's decimals/symbol."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import Connection

METRIC_COLUMNS = ("price_sol", "volume_sol", "buy_volume_sol", "sell_volume_sol", "market_cap_sol",
                  "liquidity_sol", "trades", "holders")
_ARRAY_TYPES = {"trades": "integer[]", "holders": "integer[]"}
_SELECT = f"SELECT ts, {', '.join(METRIC_COLUMNS)} FROM coin_metrics"


def upsert_points(conn: Connection, mint: str, points: Sequence[dict[str, Any]]) -> int:
    """Insert or replace (same mint and ts) a batch of points in one statement; returns how many."""
    if not points:
        return 0
    columns = ("ts", *METRIC_COLUMNS)
    arrays = [[p.get(c) for p in points] for c in columns]
    casts = ", ".join(f"%s::{_ARRAY_TYPES.get(c, 'timestamptz[]' if c == 'ts' else 'numeric[]')}" for c in columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in METRIC_COLUMNS)
    conn.execute(
        f"""INSERT INTO coin_metrics (mint, {', '.join(columns)})
            SELECT %s, u.* FROM unnest({casts}) AS u
            ON CONFLICT (mint, ts) DO UPDATE SET {updates}""",
        [mint, *arrays],
    )
    return len(points)


def _window(mint: str, after: datetime | None, until: datetime | None) -> tuple[list[str], list[Any]]:
    """WHERE conditions and parameters of a mint's points with ts in (after, until]."""
    where, params = ["mint = %s"], [mint]
    if after is not None:
        where.append("ts > %s")
        params.append(after)
    if until is not None:
        where.append("ts <= %s")
        params.append(until)
    return where, params


def points_between(
    conn: Connection, mint: str, after: datetime | None, until: datetime | None, limit: int | None = None,
    *, future: bool = False,
) -> list[dict[str, Any]]:
    """A mint's points with ts in (after, until] (either bound optional), newest first, at most limit.

    Never a point dated after now (a mis-dated point must not pass for the latest one), unless `future`.
    """
    where, params = _window(mint, after, until)
    if not future:
        where.append("ts <= now()")
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY ts DESC"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return conn.execute(sql, params).fetchall()


def latest_point(conn: Connection, mint: str, at: datetime | None = None) -> dict[str, Any] | None:
    """A mint's latest point at or before `at` and now (the newest one not dated in the future when `at` is None)."""
    rows = points_between(conn, mint, None, at, 1)
    return rows[0] if rows else None


def delete_points(conn: Connection, mint: str, after: datetime | None, until: datetime | None) -> int:
    """Delete a mint's points with ts in (after, until] (either bound optional, future ones included); how many."""
    where, params = _window(mint, after, until)
    return conn.execute(f"DELETE FROM coin_metrics WHERE {' AND '.join(where)}", params).rowcount


def latest_price(conn: Connection, mint: str) -> tuple[Decimal, datetime] | None:
    """The newest stored price_sol of a mint and its timestamp (None when nothing is stored)."""
    point = latest_point(conn, mint)
    return None if point is None else (point["price_sol"], point["ts"])


def get_mint(conn: Connection, mint: str) -> dict[str, Any] | None:
    """A mint's decimals and symbol, if known."""
    return conn.execute("SELECT mint, decimals, symbol, updated_at FROM mints WHERE mint = %s", (mint,)).fetchone()


def upsert_mint(conn: Connection, mint: str, decimals: int, symbol: str | None) -> None:
    """Record a mint's decimals (and symbol; a None symbol keeps the stored one)."""
    conn.execute(
        """INSERT INTO mints (mint, decimals, symbol) VALUES (%s, %s, %s)
           ON CONFLICT (mint) DO UPDATE SET decimals = EXCLUDED.decimals,
               symbol = COALESCE(EXCLUDED.symbol, mints.symbol), updated_at = now()""",
        (mint, decimals, symbol),
    )


def set_symbol(conn: Connection, mint: str, symbol: str) -> bool:
    """Change a known mint's symbol; False when the mint is not recorded."""
    cur = conn.execute("UPDATE mints SET symbol = %s, updated_at = now() WHERE mint = %s", (symbol, mint))
    return cur.rowcount == 1


def latest_market_point(conn: Connection, mint: str, at: datetime | None) -> dict[str, Any] | None:
    """The mint's latest metrics point at or before `at` (None: the database's now()): ts, liquidity, volume."""
    return conn.execute(
        """SELECT ts, liquidity_sol, volume_sol FROM coin_metrics
           WHERE mint = %(mint)s AND ts <= coalesce(%(at)s::timestamptz, now())
           ORDER BY ts DESC LIMIT 1""", {"mint": mint, "at": at}).fetchone()

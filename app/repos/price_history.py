"""SQL for recorded prices (price_history): what the live engine decided on, kept for replay."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from psycopg import Connection


def record(conn: Connection, mint: str, price_sol: Decimal, source: str, at: datetime | None = None) -> None:
    """Store one decided price (at `at`, default now)."""
    conn.execute("INSERT INTO price_history (mint, ts, price_sol, source) VALUES (%s, COALESCE(%s, now()), %s, %s)",
                 (mint, at, price_sol, source))


def price_at(conn: Connection, mint: str, at: datetime) -> tuple[Decimal, datetime, str] | None:
    """The latest recorded price of `mint` at or before `at`, with its time and source."""
    row = conn.execute(
        """SELECT price_sol, ts, source FROM price_history WHERE mint = %s AND ts <= %s
           ORDER BY ts DESC, id DESC LIMIT 1""", (mint, at)).fetchone()
    return None if row is None else (row["price_sol"], row["ts"], row["source"])


def between(conn: Connection, after: datetime, until: datetime) -> list[dict]:
    """Every recorded price in (after, until], oldest first."""
    return conn.execute("""SELECT mint, ts, price_sol, source FROM price_history WHERE ts > %s AND ts <= %s
                           ORDER BY ts, id""", (after, until)).fetchall()


def insert_many(conn: Connection, rows: list[dict]) -> None:
    """Copy recorded prices in (a backtest's scratch database)."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO price_history (mint, ts, price_sol, source) VALUES "
                        "(%(mint)s, %(ts)s, %(price_sol)s, %(source)s)", rows)


def purge_older_than(conn: Connection, days: int) -> int:
    """Delete recorded prices older than `days` days; returns how many."""
    return conn.execute("DELETE FROM price_history WHERE ts < now() - make_interval(days => %s)",
                        (days,)).rowcount

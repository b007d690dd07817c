"""SQL of the emergency stop: the single trading_state row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection

_COLUMNS = "halted, halt_sells, reason, halted_by, halted_at, updated_at"


def read_for_buy(conn: Connection) -> dict[str, Any] | None:
    """The halt state, share-locked until the transaction ends (a halt's UPDATE waits for this buy to commit)."""
    return conn.execute(f"SELECT {_COLUMNS} FROM trading_state WHERE id FOR SHARE").fetchone()


def get(conn: Connection) -> dict[str, Any] | None:
    """The halt state as committed (no lock)."""
    return conn.execute(f"SELECT {_COLUMNS} FROM trading_state WHERE id").fetchone()


def set_halt(conn: Connection, halted: bool, halt_sells: bool, reason: str | None,
             halted_by: str | None) -> dict[str, Any]:
    """Halt or resume; the row lock waits for every buy that already read the state to commit."""
    return conn.execute(
        f"""INSERT INTO trading_state AS t (id, halted, halt_sells, reason, halted_by, halted_at)
            VALUES (TRUE, %(halted)s, %(halt_sells)s, %(reason)s, %(by)s, CASE WHEN %(halted)s THEN now() END)
            ON CONFLICT (id) DO UPDATE SET halted = EXCLUDED.halted, halt_sells = EXCLUDED.halt_sells,
                reason = EXCLUDED.reason, halted_by = EXCLUDED.halted_by,
                halted_at = CASE WHEN EXCLUDED.halted THEN coalesce(CASE WHEN t.halted THEN t.halted_at END, now())
                            END,
                updated_at = now()
            RETURNING {_COLUMNS}""",
        {"halted": halted, "halt_sells": halt_sells, "reason": reason, "by": halted_by},
    ).fetchone()


def database_now(conn: Connection) -> datetime:
    """The transaction's time on the database clock."""
    return conn.execute("SELECT now() AS now").fetchone()["now"]

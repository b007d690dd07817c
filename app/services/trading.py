"""The emergency stop: halt, resume and read the trading state (SPEC §7).

A halt is one UPDATE of the single trading_state row. Buys read that row FOR SHARE inside their locked
transaction, so the halt's row lock waits for the buys already past the check, and a buy starting later
reads the halt: once a halt has committed, no buy is written.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection

from app.core.guards import CONFIG_HALT_REASON, CONFIG_HALT_SELLS_REASON
from app.core.notifications import halt_event
from app.repos import trading_state
from app.services import notifications
from app.services.ports import Dispatcher

SELLS_CONTINUE = "continue"
SELLS_HALT = "halt"


def halt(conn: Connection, reason: str, sells: str, by: str | None, config_halt: bool,
         dispatcher: Dispatcher, config_halt_sells: bool = False) -> dict[str, Any]:
    """Stop every buy (and sells when `sells` is "halt") until resumed; notifies; returns the trading status."""
    with conn.transaction():
        trading_state.set_halt(conn, True, sells == SELLS_HALT, reason, by)
        notifications.emit(conn, halt_event(True, reason, sells, by, _now(conn)), dispatcher)
    return status(conn, config_halt, config_halt_sells)


def resume(conn: Connection, by: str | None, config_halt: bool, dispatcher: Dispatcher,
           config_halt_sells: bool = False) -> dict[str, Any]:
    """Lift the stored halt (TRADING_HALTED, when set, still halts); notifies; returns the trading status."""
    with conn.transaction():
        trading_state.set_halt(conn, False, False, None, by)
        notifications.emit(conn, halt_event(False, None, None, by, _now(conn)), dispatcher)
    return status(conn, config_halt, config_halt_sells)


def _now(conn: Connection) -> str:
    return trading_state.database_now(conn).isoformat()


def status(conn: Connection, config_halt: bool, config_halt_sells: bool = False) -> dict[str, Any]:
    """Whether trading is halted, why, since when, by whom, and whether sells go on.

    `config_halt` / `config_halt_sells`: TRADING_HALTED (1: buys, all: buys and sells) from the environment;
    a stored halt is shown first, with sells halted when either halts them.
    """
    row = trading_state.get(conn) or {"halted": False, "halt_sells": False, "reason": None, "halted_by": None,
                                      "halted_at": None}
    if row["halted"]:
        sells = SELLS_HALT if row["halt_sells"] or config_halt_sells else SELLS_CONTINUE
        return {"halted": True, "sells": sells, "source": "api", "reason": row["reason"],
                "halted_at": row["halted_at"], "halted_by": row["halted_by"]}
    if config_halt or config_halt_sells:
        return {"halted": True, "sells": SELLS_HALT if config_halt_sells else SELLS_CONTINUE, "source": "config",
                "reason": CONFIG_HALT_SELLS_REASON if config_halt_sells else CONFIG_HALT_REASON,
                "halted_at": None, "halted_by": None}
    return {"halted": False, "sells": SELLS_CONTINUE, "source": None, "reason": None, "halted_at": None,
            "halted_by": None}

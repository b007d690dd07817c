"""The trading store on PostgreSQL: each operation is one statement of `app/repos/` on one connection.

The database enforces the invariants (unique partial indexes, guarded UPDATEs, row locks); a unique
violation comes back as SlotTaken. The connection is in autocommit mode: an operation outside
`transaction()` commits on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import wraps
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

from psycopg import Connection, errors

from app.repos import approvals as approval_repo
from app.repos import buy_candidates, trading_state
from app.repos import coin_metrics as metrics_repo
from app.repos import executions as execution_repo
from app.repos import fills as fill_repo
from app.repos import orders as order_repo
from app.repos import positions as position_repo
from app.repos import predictions as prediction_repo
from app.repos import wallets as wallet_repo
from app.store.port import Row, SlotTaken

T = TypeVar("T")


def _frozen(row: dict[str, Any] | None) -> Row | None:
    return None if row is None else MappingProxyType(row)


def _slot(function: Callable[..., T]) -> Callable[..., T]:
    """Translate the database's unique violation into the port's SlotTaken."""
    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except errors.UniqueViolation as exc:
            raise SlotTaken(str(exc).splitlines()[0]) from exc
    return guarded


class PostgresStore:
    """TradingStore over one (autocommit) psycopg connection with dict rows."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A database transaction (a savepoint when nested)."""
        with self.conn.transaction():
            yield

    def now(self) -> datetime:
        """The database's now()."""
        return trading_state.database_now(self.conn)

    # --- predictions --------------------------------------------------------
    def claim_prediction(self, prediction_id: UUID, lease_seconds: float) -> Row | None:
        """See TradingStore.claim_prediction."""
        return _frozen(prediction_repo.claim(self.conn, prediction_id, lease_seconds))

    def get_prediction(self, prediction_id: UUID) -> Row | None:
        """See TradingStore.get_prediction."""
        return _frozen(prediction_repo.get(self.conn, prediction_id))

    def renew_claim(self, prediction_id: UUID) -> None:
        """See TradingStore.renew_claim."""
        prediction_repo.renew_claim(self.conn, prediction_id)

    def mark_evaluated(self, prediction_id: UUID, outcomes: list[dict[str, Any]], status: str = "EVALUATED") -> None:
        """See TradingStore.mark_evaluated."""
        prediction_repo.mark_evaluated(self.conn, prediction_id, outcomes, status)

    # --- BUY side -----------------------------------------------------------
    def buy_candidates(self, model_id: int, mint: str) -> list[Row]:
        """See TradingStore.buy_candidates."""
        return [MappingProxyType(row) for row in buy_candidates.active_for_trigger(self.conn, model_id, mint)]

    def buy_candidate(self, workflow_id: UUID, mint: str) -> Row | None:
        """See TradingStore.buy_candidate."""
        return _frozen(buy_candidates.workflow_for_buy(self.conn, workflow_id, mint))

    def lock_buy_state(self, workflow_id: UUID, mint: str) -> Row | None:
        """See TradingStore.lock_buy_state."""
        return _frozen(buy_candidates.lock_for_buy(self.conn, workflow_id, mint))

    def daily_usage(self, wallet_id: UUID, at: datetime | None) -> Row:
        """See TradingStore.daily_usage."""
        return MappingProxyType(buy_candidates.daily_usage(self.conn, wallet_id, at))

    def halt_state(self, lock: bool = False) -> Row | None:
        """See TradingStore.halt_state."""
        return _frozen(trading_state.read_for_buy(self.conn) if lock else trading_state.get(self.conn))

    def mint_decimals(self, mint: str) -> int | None:
        """See TradingStore.mint_decimals."""
        row = metrics_repo.get_mint(self.conn, mint)
        return None if row is None else row["decimals"]

    def latest_market_point(self, mint: str, at: datetime | None) -> Row | None:
        """See TradingStore.latest_market_point."""
        return _frozen(metrics_repo.latest_market_point(self.conn, mint, at))

    def insert_approval(self, values: dict[str, Any]) -> Row | None:
        """See TradingStore.insert_approval."""
        return _frozen(approval_repo.insert(self.conn, values))

    # --- positions and trades ----------------------------------------------
    @_slot
    def insert_position(self, values: dict[str, Any]) -> UUID:
        """See TradingStore.insert_position."""
        return position_repo.insert_open(self.conn, values)

    @_slot
    def book_buy(self, values: dict[str, Any]) -> dict[str, UUID | None]:
        """See TradingStore.book_buy (one statement)."""
        booked = fill_repo.book_buy(self.conn, values)
        if booked["execution_id"] is None:
            raise SlotTaken("execution already logged for this prediction and workflow")
        return booked

    def insert_trade(self, values: dict[str, Any]) -> UUID:
        """See TradingStore.insert_trade."""
        return position_repo.insert_trade(self.conn, values)

    def check_target(self, position_id: UUID) -> Row | None:
        """See TradingStore.check_target."""
        return _frozen(position_repo.check_target(self.conn, position_id))

    def lock_open_position(self, position_id: UUID) -> Row | None:
        """See TradingStore.lock_open_position."""
        return _frozen(position_repo.lock_open(self.conn, position_id))

    def record_price(self, position_id: UUID, price_sol: Decimal, peak_price_sol: Decimal,
                     rule_fired: bool = False) -> None:
        """See TradingStore.record_price."""
        position_repo.record_price(self.conn, position_id, price_sol, peak_price_sol, rule_fired)

    def record_check_error(self, position_id: UUID, message: str) -> None:
        """See TradingStore.record_check_error."""
        position_repo.record_check_error(self.conn, position_id, message)

    def set_failing_rule(self, position_id: UUID, rule: str | None) -> None:
        """See TradingStore.set_failing_rule."""
        position_repo.set_failing_rule(self.conn, position_id, rule)

    def apply_sell(self, position_id: UUID, values: dict[str, Any]) -> None:
        """See TradingStore.apply_sell."""
        position_repo.apply_sell(self.conn, position_id, values)

    def open_position_ids(self) -> list[UUID]:
        """See TradingStore.open_position_ids."""
        return position_repo.open_ids(self.conn)

    def position_status(self, position_id: UUID) -> str | None:
        """See TradingStore.position_status."""
        return position_repo.status_of(self.conn, position_id)

    # --- wallets ------------------------------------------------------------
    def wallet(self, wallet_id: UUID) -> Row | None:
        """See TradingStore.wallet."""
        return _frozen(wallet_repo.get(self.conn, wallet_id))

    def signing_row(self, wallet_id: UUID) -> Row | None:
        """See TradingStore.signing_row."""
        return _frozen(wallet_repo.signing_row(self.conn, wallet_id))

    def debit(self, wallet_id: UUID, amount_sol: Decimal) -> None:
        """See TradingStore.debit."""
        wallet_repo.debit(self.conn, wallet_id, amount_sol)

    def credit(self, wallet_id: UUID, amount_sol: Decimal) -> None:
        """See TradingStore.credit."""
        wallet_repo.credit(self.conn, wallet_id, amount_sol)

    def lock_streak(self, wallet_id: UUID) -> Row:
        """See TradingStore.lock_streak."""
        return MappingProxyType(wallet_repo.lock_streak(self.conn, wallet_id))

    def set_streak(self, wallet_id: UUID, streak: int, tripped_at: datetime | None, reason: str | None) -> None:
        """See TradingStore.set_streak."""
        wallet_repo.set_streak(self.conn, wallet_id, streak, tripped_at, reason)

    # --- executions ---------------------------------------------------------
    def insert_execution(self, values: dict[str, Any]) -> UUID | None:
        """See TradingStore.insert_execution."""
        return execution_repo.insert(self.conn, values)

    # --- orders -------------------------------------------------------------
    @_slot
    def insert_order(self, values: dict[str, Any]) -> Row:
        """See TradingStore.insert_order."""
        return MappingProxyType(order_repo.insert(self.conn, values))

    def link_order(self, order_id: UUID, **links: Any) -> None:
        """See TradingStore.link_order."""
        order_repo.link(self.conn, order_id, **links)

    def mark_order_sent(self, order_id: UUID, values: dict[str, Any]) -> bool:
        """See TradingStore.mark_order_sent."""
        return order_repo.mark_sent(self.conn, order_id, values)

    def finish_order(self, order_id: UUID, from_states: tuple[str, ...], values: dict[str, Any]) -> Row | None:
        """See TradingStore.finish_order."""
        return _frozen(order_repo.finish(self.conn, order_id, from_states, values))

    def get_order(self, order_id: UUID) -> Row | None:
        """See TradingStore.get_order."""
        return _frozen(order_repo.get(self.conn, order_id))

    def open_order_for_position(self, position_id: UUID) -> Row | None:
        """See TradingStore.open_order_for_position."""
        return _frozen(order_repo.open_for_position(self.conn, position_id))

    def orders_to_reconcile(self, pending_older_than_seconds: float) -> list[Row]:
        """See TradingStore.orders_to_reconcile."""
        return [MappingProxyType(row) for row in order_repo.to_reconcile(self.conn, pending_older_than_seconds)]

"""The trading store: everything the BUY and SELL engines read and write, as one port (a unit of work).

Engines see only this protocol; `app/store/postgres.py` adapts it to PostgreSQL (delegating to the SQL in
`app/repos/`) and `app/store/memory.py` keeps it in dicts for backtests and the headless demo. Both enforce
the same invariants, proven by one contract suite (tests/store/):

- one OPEN position per wallet and mint;
- one execution per (prediction, workflow); one open (PENDING/SENT) SELL order per position; one open BUY
  order per wallet and mint; one BUY order per (prediction, workflow): a write that breaks one raises SlotTaken;
- guarded state transitions (a prediction is claimed/evaluated only while PENDING, an order finishes only from
  the states given, a position is sold only while OPEN);
- `with store.transaction():` is all or nothing (nested: a savepoint);
- rows come back as read-only mappings (snapshots): a later write never changes a row already read.

Timestamps: a write's `at` of None means the store's now (PostgreSQL: now(); memory: its clock).
Ordering is explicit everywhere: predictions by (predicted_at, seq), positions by (opened_at, seq).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

Row = Mapping[str, Any]  # a read-only snapshot of one stored row (the columns the repos return)


class SlotTaken(Exception):
    """A write would break a uniqueness invariant (held mint, execution already logged, order in flight)."""


class TradingStore(Protocol):
    """The engines' store: predictions, BUY candidates, positions, trades, executions, orders, wallets."""

    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: every write inside commits together or not at all (nested: a savepoint)."""
        ...

    def now(self) -> datetime:
        """The store's current time (PostgreSQL: the transaction's now(); memory: its clock)."""
        ...

    # --- predictions --------------------------------------------------------
    def claim_prediction(self, prediction_id: UUID, lease_seconds: float) -> Row | None:
        """Take a PENDING, unclaimed (or lease-expired) prediction, with `age_seconds` since it was received."""
        ...

    def get_prediction(self, prediction_id: UUID) -> Row | None:
        """One prediction (with its status and outcomes)."""
        ...

    def renew_claim(self, prediction_id: UUID) -> None:
        """Extend the evaluator's lease on a PENDING prediction."""
        ...

    def mark_evaluated(self, prediction_id: UUID, outcomes: list[dict[str, Any]], status: str = "EVALUATED") -> None:
        """Store a PENDING prediction's final status and outcomes (no effect once it is final)."""
        ...

    # --- BUY side -----------------------------------------------------------
    def buy_candidates(self, model_id: int, mint: str) -> list[Row]:
        """Active BUY workflows triggered by model_id on trading-enabled wallets, each with its wallet's state
        (last_executed_at, open_positions, holds_mint, open_buy_lamports, mint_decimals, db_now), in creation
        order."""
        ...

    def buy_candidate(self, workflow_id: UUID, mint: str) -> Row | None:
        """One BUY workflow with its wallet's state, as buy_candidates gives it (active or not)."""
        ...

    def lock_buy_state(self, workflow_id: UUID, mint: str) -> Row | None:
        """Lock the workflow's wallet for this transaction and re-read its state and limits, with the halt
        (halted, halt_sells, halt_reason, halted_at; share-locked: a halt waits for this transaction) (None: gone)."""
        ...

    def daily_usage(self, wallet_id: UUID, at: datetime | None) -> Row:
        """buys_today and realized_pnl_today_sol of the wallet since 00:00 UTC of `at` (None: now)."""
        ...

    def halt_state(self, lock: bool = False) -> Row | None:
        """The trading_state row (halted, halt_sells, reason, halted_at); `lock` share-locks it (a halt waits)."""
        ...

    def mint_decimals(self, mint: str) -> int | None:
        """The mint's decimals (None: unknown)."""
        ...

    def latest_market_point(self, mint: str, at: datetime | None) -> Row | None:
        """The mint's latest metrics point at or before `at`: ts, liquidity_sol, volume_sol."""
        ...

    def insert_approval(self, values: dict[str, Any]) -> Row | None:
        """A PENDING approval (prediction_id, workflow_id, mint, amount_sol, steps_log, ttl_seconds, at);
        returns id and expires_at, or None when one exists for the prediction and workflow."""
        ...

    # --- positions and trades ----------------------------------------------
    def insert_position(self, values: dict[str, Any]) -> UUID:
        """Open a position (wallet_id, mint, decimals, tokens_raw, sol_spent, price_sol, workflow_id, at);
        SlotTaken when the wallet already holds the mint."""
        ...

    def book_buy(self, values: dict[str, Any]) -> dict[str, UUID | None]:
        """Write a filled buy at once (inside a transaction): for paper (`order_id` None) its FILLED order
        (in_amount, quoted_out, out_amount, fee_lamports) and the wallet's debit of sol_spent, on chain the
        links from the existing order `order_id`; the OPEN position (wallet_id, mint, decimals, tokens_raw,
        sol_spent, price_sol, workflow_id), the BUY trade (fee_sol, tx_signature) and the EXECUTED execution
        (trigger_data, steps_log, prediction_id, approval_id), all at `at`. Returns order_id, position_id,
        trade_id, execution_id; SlotTaken when the wallet holds the mint or the execution is logged already."""
        ...

    def insert_trade(self, values: dict[str, Any]) -> UUID:
        """Write one trade (trade_logs row)."""
        ...

    def check_target(self, position_id: UUID) -> Row | None:
        """A position with its wallet (alias, type, trading_enabled), its active SELL workflow
        (sell_workflow_id, sell_workflow_name, sell_chain, sell_amount_pct, sell_slippage_bps; None when none)
        and the halt state (halted, halt_sells, halt_reason)."""
        ...

    def lock_open_position(self, position_id: UUID) -> Row | None:
        """Lock an OPEN position for this transaction (None: closed or gone)."""
        ...

    def record_price(self, position_id: UUID, price_sol: Decimal, peak_price_sol: Decimal,
                     rule_fired: bool = False) -> None:
        """A check's price and raised peak (never lowered); clears the check error (and, unless a rule fired,
        the failing rule)."""
        ...

    def record_check_error(self, position_id: UUID, message: str) -> None:
        """Note a check that could not price or sell the position."""
        ...

    def set_failing_rule(self, position_id: UUID, rule: str | None) -> None:
        """Remember (or clear) the rule whose sell failed."""
        ...

    def apply_sell(self, position_id: UUID, values: dict[str, Any]) -> None:
        """Reduce or close an OPEN position after a sell (tokens_left, net_sol, realized, rule_key, reason, at)."""
        ...

    def open_position_ids(self) -> list[UUID]:
        """Every OPEN position's id in opening order (opened_at, then seq)."""
        ...

    def position_status(self, position_id: UUID) -> str | None:
        """A position's status (None: no such position)."""
        ...

    # --- wallets ------------------------------------------------------------
    def wallet(self, wallet_id: UUID) -> Row | None:
        """One wallet row (public_key, type, balance, limits, breaker)."""
        ...

    def signing_row(self, wallet_id: UUID) -> Row | None:
        """A wallet's public key and encrypted secret key (REAL orders)."""
        ...

    def debit(self, wallet_id: UUID, amount_sol: Decimal) -> None:
        """Take SOL from a paper balance (never below zero)."""
        ...

    def credit(self, wallet_id: UUID, amount_sol: Decimal) -> None:
        """Add SOL to a paper balance."""
        ...

    def lock_streak(self, wallet_id: UUID) -> Row:
        """Lock the wallet and read alias, losing_streak, breaker_losing_sells, breaker_tripped_at."""
        ...

    def set_streak(self, wallet_id: UUID, streak: int, tripped_at: datetime | None, reason: str | None) -> None:
        """Store the losing streak; with a reason, trip the breaker at `tripped_at` (None: now)."""
        ...

    # --- executions ---------------------------------------------------------
    def insert_execution(self, values: dict[str, Any]) -> UUID | None:
        """Log one workflow execution; None when the prediction already has one for the workflow."""
        ...

    # --- orders -------------------------------------------------------------
    def insert_order(self, values: dict[str, Any]) -> Row:
        """Write an order (PENDING unless `state` is given); SlotTaken when its slot is taken."""
        ...

    def link_order(self, order_id: UUID, **links: Any) -> None:
        """Point an order at what it produced (execution_id, trade_log_id, position_id)."""
        ...

    def mark_order_sent(self, order_id: UUID, values: dict[str, Any]) -> bool:
        """PENDING -> SENT with signature, raw bytes, last_valid_block_height, quoted_out; False if not PENDING."""
        ...

    def finish_order(self, order_id: UUID, from_states: tuple[str, ...], values: dict[str, Any]) -> Row | None:
        """Move an order from one of `from_states` to its final state; None when it had moved already."""
        ...

    def get_order(self, order_id: UUID) -> Row | None:
        """One order (with its signed bytes and context)."""
        ...

    def open_order_for_position(self, position_id: UUID) -> Row | None:
        """The position's order in flight (PENDING or SENT), if any."""
        ...

    def orders_to_reconcile(self, pending_older_than_seconds: float) -> list[Row]:
        """Every SENT order and PENDING ones older than the given age, oldest first."""
        ...


"""Every state and outcome the service stores or reports, as `str` enums (one module, like rq's JobStatus).

Members compare equal to their stored text (`PositionStatus.OPEN == "OPEN"`), so rows read from
PostgreSQL and JSON written to it need no conversion.
"""

from __future__ import annotations

from enum import StrEnum


class WalletType(StrEnum):
    """TEST wallets trade on paper against a virtual balance; REAL wallets on chain."""

    TEST = "TEST"
    REAL = "REAL"


class PositionStatus(StrEnum):
    """A position holds tokens (OPEN) or has sold them all (CLOSED)."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class PredictionStatus(StrEnum):
    """A posted prediction waits for its evaluation job, then holds its outcomes."""

    PENDING = "PENDING"
    EVALUATED = "EVALUATED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"  # too old to act on by the time it could be evaluated


class ExecutionResult(StrEnum):
    """What a logged workflow execution (workflow_executions.result) concluded."""

    EXECUTED = "EXECUTED"
    REJECTED = "REJECTED"
    ERROR = "ERROR"


class BuyOutcome(StrEnum):
    """What evaluating one prediction against one BUY workflow concluded (kept on the prediction).

    IGNORED and SKIPPED are recorded only on the prediction; the others are also logged as executions.
    """

    IGNORED = "ignored"  # not this workflow's trigger, or below its threshold
    SKIPPED = "skipped"  # cooldown, mint already held, or a concurrent buy won
    REJECTED = "REJECTED"
    ERROR = "ERROR"
    EXECUTED = "EXECUTED"
    AWAITING_APPROVAL = "awaiting_approval"  # the workflow requires approval: an approval waits, no buy yet
    ORDER_SENT = "order_sent"  # a REAL buy's order is reserved or sent, not confirmed yet: its fill is applied later
    EXPIRED = "expired"  # the prediction was too old to act on (PredictionStatus.EXPIRED): no workflow evaluated

    @property
    def execution_result(self) -> ExecutionResult | None:
        """The execution to log for this outcome (None: recorded on the prediction only)."""
        if self in (BuyOutcome.IGNORED, BuyOutcome.SKIPPED, BuyOutcome.AWAITING_APPROVAL, BuyOutcome.ORDER_SENT,
                    BuyOutcome.EXPIRED):
            return None
        return ExecutionResult(self.value)


class ApprovalStatus(StrEnum):
    """A BUY waiting for a human: PENDING until approved, rejected, or past its expiry."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class CheckResult(StrEnum):
    """What one scheduled sell check of a position did."""

    HOLD = "hold"  # no rule fired: price and peak recorded
    SOLD = "sold"  # a rule fired and the sell was booked
    SELL_FAILED = "sell_failed"  # a rule fired but the sell could not be carried out
    NO_PRICE = "no_price"
    NO_SELL_WORKFLOW = "no_sell_workflow"  # no active SELL workflow, or trading disabled
    NOT_OPEN = "not_open"  # closed meanwhile: stop checking it
    HALTED = "halted"  # an emergency stop halts sells too: not sold, checked again next interval
    ORDER_OPEN = "order_open"  # a sell order of this position is still in flight: not sold again
    ORDER_PLACED = "order_placed"  # a rule fired on a REAL wallet: its order was placed (see the order's state)


class CloseReason(StrEnum):
    """Why a sell happened (trade_logs.rule; positions.close_reason when it closed the position)."""

    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"
    TAKE_PROFIT = "take_profit"
    TIMEOUT = "timeout"
    MANUAL = "manual"
    END_OF_DEMO = "end_of_demo"


class TradeAction(StrEnum):
    """A trade buys tokens with SOL or sells them for SOL."""

    BUY = "BUY"
    SELL = "SELL"


class OrderState(StrEnum):
    """An order's life: paper orders are FILLED at once; on-chain ones go PENDING -> SENT -> a final state."""

    PENDING = "PENDING"  # reserved: nothing signed or sent yet
    SENT = "SENT"  # signed bytes and signature stored, sent (maybe again): waiting for the chain
    FILLED = "FILLED"  # landed: the actual fill is applied
    FAILED = "FAILED"  # landed with an error (fee paid), refused before sending, or never sent
    EXPIRED = "EXPIRED"  # its blockhash expired with no status: it can never land

    @property
    def is_open(self) -> bool:
        """Still in flight (PENDING or SENT)."""
        return self in (OrderState.PENDING, OrderState.SENT)


class KeyRole(StrEnum):
    """What an API key may do: everything, or only read (GET/HEAD)."""

    ADMIN = "admin"
    READ_ONLY = "read-only"

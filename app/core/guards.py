"""Risk guards (SPEC §7) as pure functions: the emergency stop, per-wallet limits and the circuit breaker.

The BUY engine asks them inside its locked transaction (wallet row locked, trading state read FOR SHARE),
so what they see is what the buy writes against. A guard that passes with nothing configured logs no
step; one that is configured logs its values, and one that refuses logs why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.core.buy import Decision
from app.core.states import BuyOutcome

CONFIG_HALT_REASON = "TRADING_HALTED is set in the service's environment"
CONFIG_HALT_SELLS_REASON = "TRADING_HALTED=all is set in the service's environment"


@dataclass(frozen=True)
class HaltState:
    """The emergency stop as stored (or set by TRADING_HALTED)."""

    halted: bool
    halt_sells: bool = False
    reason: str | None = None
    halted_at: datetime | None = None
    by_config: bool = False


@dataclass(frozen=True)
class WalletLimits:
    """A wallet's limits (None: no limit) and its circuit breaker."""

    max_buys_per_day: int | None = None
    max_daily_loss_sol: Decimal | None = None
    max_position_pct: Decimal | None = None
    breaker_tripped_at: datetime | None = None
    breaker_reason: str | None = None

    @property
    def configured(self) -> bool:
        """True when any limit is set (then the check logs its step even when it passes)."""
        return any(v is not None for v in (self.max_buys_per_day, self.max_daily_loss_sol, self.max_position_pct))


@dataclass(frozen=True)
class DailyUsage:
    """What the wallet did since 00:00 UTC: buys written and net realised P&L of its sells."""

    buys_today: int
    realized_pnl_today_sol: Decimal


def effective_halt(stored: HaltState | None, config_halt: bool) -> HaltState:
    """The halt in force: the stored one, or TRADING_HALTED's when the store is not halted."""
    if stored is not None and stored.halted:
        return stored
    if config_halt:
        return HaltState(True, False, CONFIG_HALT_REASON, None, by_config=True)
    return stored or HaltState(False)


def halt_check(halt: HaltState) -> Decision:
    """No buy while trading is halted: REJECTED with a `halt_check` step naming the reason."""
    if not halt.halted:
        return Decision(None)
    step = {"step": "halt_check", "result": "rejected", "reason": halt.reason,
            "halted_at": halt.halted_at.isoformat() if halt.halted_at else None}
    return Decision(BuyOutcome.REJECTED, (step,), f"trading is halted: {halt.reason or 'no reason given'}")


def limits_check(limits: WalletLimits, usage: DailyUsage, amount_sol: Decimal, balance_sol: Decimal) -> Decision:
    """The wallet's circuit breaker, buys per UTC day, realised loss per UTC day and position size vs balance."""
    loss = max(Decimal(0), -usage.realized_pnl_today_sol)
    step: dict[str, Any] = {"step": "limits_check", "buys_today": usage.buys_today,
                            "max_buys_per_day": limits.max_buys_per_day, "realized_loss_today_sol": _plain(loss),
                            "max_daily_loss_sol": _opt(limits.max_daily_loss_sol), "amount_sol": _plain(amount_sol),
                            "balance_sol": _plain(balance_sol), "max_position_pct": _opt(limits.max_position_pct)}
    problem = _limit_problem(limits, usage, loss, amount_sol, balance_sol)
    if problem is not None:
        return Decision(BuyOutcome.REJECTED, ({**step, "result": "rejected", "limit": problem[0]},), problem[1])
    if not limits.configured:
        return Decision(None)
    return Decision(None, ({**step, "result": "passed"},))


def _limit_problem(limits: WalletLimits, usage: DailyUsage, loss: Decimal, amount_sol: Decimal,
                   balance_sol: Decimal) -> tuple[str, str] | None:
    """(limit name, reason) of the first limit reached, or None."""
    if limits.breaker_tripped_at is not None:
        return "circuit_breaker", f"circuit breaker tripped: {limits.breaker_reason or 'consecutive losing sells'}"
    if limits.max_buys_per_day is not None and usage.buys_today >= limits.max_buys_per_day:
        return "max_buys_per_day", f"max buys per UTC day reached ({usage.buys_today}/{limits.max_buys_per_day})"
    if limits.max_daily_loss_sol is not None and loss >= limits.max_daily_loss_sol:
        return "max_daily_loss_sol", (f"realised loss today {_plain(loss)} SOL reached the limit of "
                                      f"{_plain(limits.max_daily_loss_sol)} SOL")
    if limits.max_position_pct is not None and amount_sol > balance_sol * limits.max_position_pct / 100:
        return "max_position_pct", (f"{_plain(amount_sol)} SOL is more than {_plain(limits.max_position_pct)} % "
                                    f"of the balance ({_plain(balance_sol)} SOL)")
    return None


@dataclass(frozen=True)
class StreakUpdate:
    """A wallet's losing streak after one more sell, and the breaker's reason when that sell trips it."""

    streak: int
    trips: str | None = None


def after_sell(streak: int, threshold: int, tripped: bool, losing: bool) -> StreakUpdate:
    """A losing sell extends the streak (tripping a closed breaker when it reaches threshold); another ends it."""
    if not losing:
        return StreakUpdate(0)
    streak += 1
    if not tripped and streak >= threshold:
        return StreakUpdate(streak, f"{streak} consecutive losing sells")
    return StreakUpdate(streak)


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else _plain(value)


def _plain(value: Decimal) -> str:
    return format(value, "f")

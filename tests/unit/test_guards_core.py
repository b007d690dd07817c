"""The risk guards' pure decisions: halt, limits (first reached wins), the losing streak."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from app.core.guards import (
    CONFIG_HALT_REASON,
    DailyUsage,
    HaltState,
    WalletLimits,
    after_sell,
    effective_halt,
    halt_check,
    limits_check,
)

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
NONE_USED = DailyUsage(0, Decimal(0))


def test_not_halted_goes_on_without_a_step():
    decision = halt_check(effective_halt(HaltState(False), False))
    assert decision.goes_on and decision.steps == ()


def test_stored_halt_wins_over_the_environment_and_the_environment_halts_alone():
    stored = HaltState(True, True, "crash", NOW)
    assert effective_halt(stored, True) is stored
    by_config = effective_halt(None, True)
    assert by_config.halted and by_config.by_config and by_config.reason == CONFIG_HALT_REASON
    decision = halt_check(stored)
    assert decision.outcome == "REJECTED" and decision.steps[0]["halted_at"] == NOW.isoformat()
    assert "crash" in decision.reason


def test_no_limits_no_step():
    assert limits_check(WalletLimits(), DailyUsage(500, Decimal(-99)), Decimal(5), Decimal(6)).steps == ()


def test_each_limit_at_its_boundary():
    amount, balance = Decimal("1"), Decimal("10")
    assert limits_check(WalletLimits(max_buys_per_day=3), DailyUsage(2, Decimal(0)), amount, balance).goes_on
    assert limits_check(WalletLimits(max_buys_per_day=3), DailyUsage(3, Decimal(0)), amount, balance).steps[0][
        "limit"] == "max_buys_per_day"
    loss = WalletLimits(max_daily_loss_sol=Decimal("0.5"))
    assert limits_check(loss, DailyUsage(0, Decimal("-0.499999999")), amount, balance).goes_on
    assert not limits_check(loss, DailyUsage(0, Decimal("-0.5")), amount, balance).goes_on
    assert limits_check(loss, DailyUsage(0, Decimal("3")), amount, balance).goes_on  # a winning day
    size = WalletLimits(max_position_pct=Decimal(10))
    assert limits_check(size, NONE_USED, Decimal(1), balance).goes_on
    assert limits_check(size, NONE_USED, Decimal("1.000000001"), balance).steps[0]["limit"] == "max_position_pct"


def test_a_tripped_breaker_rejects_first():
    limits = WalletLimits(max_buys_per_day=1, breaker_tripped_at=NOW, breaker_reason="3 consecutive losing sells")
    decision = limits_check(limits, DailyUsage(5, Decimal(0)), Decimal(1), Decimal(10))
    assert decision.steps[0]["limit"] == "circuit_breaker" and "3 consecutive" in decision.reason


def test_losing_streak_trips_at_the_threshold_once():
    assert after_sell(0, 3, False, True).trips is None
    assert after_sell(1, 3, False, True).trips is None
    assert after_sell(2, 3, False, True).trips == "3 consecutive losing sells"
    assert after_sell(3, 3, True, True).trips is None  # already tripped
    assert after_sell(7, 3, True, False).streak == 0
